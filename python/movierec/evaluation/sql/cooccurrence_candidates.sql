-- Item-item co-occurrence (item-kNN): the films sharing the most viewers with the user's
-- films before $cutoff, each film keeping its $neighbours nearest, so the cost grows with
-- users x history, not users x catalogue; then the $depth most viewed films (a user
-- without history gets popularity).
create or replace temp table baseline_candidates as
with

past as (
    select distinct
        user_id,
        movie_id
    from core.fct_interactions
    where interacted_at < $cutoff
),

all_pairs as (
    select
        one.movie_id,
        other.movie_id as other_movie_id,
        count(*) as co_viewers
    from past as one
    inner join past as other
        on one.user_id = other.user_id and one.movie_id != other.movie_id
    group by one.movie_id, other.movie_id
),

pairs as (
    select
        movie_id,
        other_movie_id,
        co_viewers
    from (
        select
            *,
            row_number() over (
                partition by movie_id order by co_viewers desc, other_movie_id asc
            ) as nearness
        from all_pairs
    ) as ranked
    where nearness <= $neighbours
),

scores as (
    select
        history.user_id,
        pairs.other_movie_id as movie_id,
        sum(pairs.co_viewers) as score
    from past as history
    inner join evaluation_users as evaluated on history.user_id = evaluated.user_id
    inner join pairs on history.movie_id = pairs.movie_id
    group by history.user_id, pairs.other_movie_id
),

popular as (
    select
        movie_id,
        row_number() over (order by count(*) desc, movie_id asc) as place
    from past
    group by movie_id
),

filled as (
    select
        user_id,
        movie_id,
        score
    from scores
    union all
    select
        evaluated.user_id,
        popular.movie_id,
        0 as score
    from evaluation_users as evaluated
    inner join popular on popular.place <= $depth
)

select
    filled.user_id,
    filled.movie_id,
    row_number() over (
        partition by filled.user_id
        order by
            max(filled.score) desc,
            min(coalesce(popular.place, 1e9)) asc,
            filled.movie_id asc
    ) as preference
from filled
left join popular on filled.movie_id = popular.movie_id
group by filled.user_id, filled.movie_id
