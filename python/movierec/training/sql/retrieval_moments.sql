-- Two training moments per user with films first viewed before $until (ever, when NULL):
-- their first viewing (no history yet: the cold start the nightly meets for new users)
-- and, with at least two films, the first viewing of a seeded random film of their
-- history other than the first (retrieval there sees some history, and the user chose
-- films from then on).
with

first_views as (
    select
        user_id,
        movie_id,
        min(interacted_at) as first_viewed_at
    from core.fct_interactions
    where cast($until as timestamp) is null or interacted_at < cast($until as timestamp)
    group by
        user_id,
        movie_id
),

ordered as (
    select
        user_id,
        first_viewed_at,
        row_number() over (
            partition by user_id order by first_viewed_at asc, movie_id asc
        ) as place,
        count(*) over (partition by user_id) as films
    from first_views
)

select distinct
    user_id,
    first_viewed_at as requested_at
from ordered
where
    place = 1
    or (
        films >= 2
        and place = 2 + cast(hash(user_id, $seed) % cast(films - 1 as ubigint) as bigint)
    )
