-- What the business goals count per day (docs/kpi.md): active users, viewings per active
-- user, and how much of the viewing the published lists brought (the closed loop).

with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

final as (
    select
        -- keys
        cast({{ dbt.date_trunc('day', 'interacted_at') }} as date) as activity_date,

        -- measures
        count(distinct user_id) as active_users,
        count(*) as viewings,
        cast(count(*) as {{ type_double() }}) / count(distinct user_id)
            as viewings_per_active_user,
        count(run_id) as list_views,
        cast(
            sum(case when viewing_source = 'recommendation' then 1 else 0 end)
            as {{ dbt.type_bigint() }}
        ) as recommended_viewings,
        cast(
            sum(case when viewing_source = 'recommendation' then 1 else 0 end)
            as {{ type_double() }}
        ) / count(*) as recommended_share
    from interactions
    group by cast({{ dbt.date_trunc('day', 'interacted_at') }} as date)
)

select * from final
