with

first_views as (
    select * from {{ ref('int_user_first_viewings') }}
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
    {{ history_intervals('events', ['movie_id']) }}
)

select
    movie_id,
    valid_after,
    valid_until,
    prior_interactions as prior_viewers
from final
