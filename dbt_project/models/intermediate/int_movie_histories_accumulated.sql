with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

events as (
    select
        movie_id,
        interacted_at as event_at,
        count(*) as interactions,
        sum(case when is_liked then 1 else 0 end) as likes
    from interactions
    group by
        movie_id,
        interacted_at
),

final as (
    {{ history_intervals('events', ['movie_id']) }}
)

select * from final
