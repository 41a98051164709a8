-- Each user's $top_n best-scored films in temp table scores (ties: the lower movie_id).
select
    user_id,
    rank,
    movie_id,
    score
from (
    select
        user_id,
        movie_id,
        score,
        cast(row_number() over (
            partition by user_id
            order by score desc, movie_id asc
        ) as integer) as rank
    from scores
) as ranked
where rank <= $top_n
