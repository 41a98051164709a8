-- The (user, film) pairs EASE is fitted on: each user's films among the $films films
-- with the most viewers (ties: the lower id), over every viewing in the warehouse before
-- $until (every viewing when NULL).
with

viewings as (
    select
        user_id,
        movie_id
    from core.fct_interactions
    where cast($until as timestamp) is null or interacted_at < cast($until as timestamp)
),

films as (
    select movie_id
    from viewings
    group by movie_id
    order by count(distinct user_id) desc, movie_id asc
    limit $films
)

select distinct
    viewings.user_id,
    viewings.movie_id
from viewings
inner join films on viewings.movie_id = films.movie_id
order by viewings.user_id, viewings.movie_id
