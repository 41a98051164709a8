
-- incremental: the films the new viewings touch (macros/incremental.sql)
-- depends_on: "masked"."staging"."stg_landing__interactions"
-- depends_on: "masked"."core"."fct_interactions"

with

first_views as (
    select * from "masked"."intermediate"."int_user_first_viewings"
),

events as (
    select
        movie_id,
        first_viewed_at as event_at,
        count(*) as interactions,
        0 as likes
    from first_views
    group by
        movie_id,
        first_viewed_at
),

final as (
    select
        movie_id,
        event_at as valid_after,
        lead(event_at) over (
            partition by movie_id order by event_at
        ) as valid_until,
        sum(interactions) over (
            partition by movie_id
            order by event_at
            rows between unbounded preceding and current row
        ) as prior_interactions,
        sum(likes) over (
            partition by movie_id
            order by event_at
            rows between unbounded preceding and current row
        ) as prior_likes
    from events
)

select
    movie_id,
    valid_after,
    valid_until,
    prior_interactions as prior_viewers
from final