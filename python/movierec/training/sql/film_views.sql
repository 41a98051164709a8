-- Every film with its viewings before $until (all of them when NULL), in id order: the
-- films negatives are drawn from, and their popularity weights.
select
    movies.movie_id,
    count(past.movie_id) as viewings
from core.dim_movies as movies
left join core.fct_interactions as past
    on
        movies.movie_id = past.movie_id
        and ($until is null or past.interacted_at < $until)
group by movies.movie_id
order by movies.movie_id
