with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

-- each viewer counts once, at their first viewing of the film
first_views as (
    select
        user_id,
        movie_id,
        min(interacted_at) as first_viewed_at
    from interactions
    group by
        user_id,
        movie_id
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
