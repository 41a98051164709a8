with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

events as (
    select
        user_id,
        interacted_at as event_at,
        count(*) as interactions,
        sum(case when is_liked then 1 else 0 end) as likes
    from interactions
    group by
        user_id,
        interacted_at
),

final as (
    {{ history_intervals('events', ['user_id']) }}
)

select * from final
