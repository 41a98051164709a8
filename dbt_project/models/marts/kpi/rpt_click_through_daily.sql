-- Realised click-through of the published lists (the closed loop, docs/kpi.md): per day,
-- model and segment, the list views (viewings with a list in front of the viewer), the
-- clicks among them, and the likes among the clicks, against the seed's 12 % baseline and
-- 15 % target.

with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

list_views as (
    select
        cast({{ dbt.date_trunc('day', 'interactions.interacted_at') }} as date) as activity_date,
        interactions.model_id,
        users.segment,
        case when interactions.viewing_source = 'recommendation' then 1 else 0 end as clicked,
        case
            when interactions.viewing_source = 'recommendation' and interactions.is_liked then 1
            else 0
        end as liked_click
    from interactions
    inner join users
        on interactions.user_id = users.user_id
    where interactions.run_id is not null
),

daily as (
    select
        activity_date,
        model_id,
        segment,
        count(*) as list_views,
        cast(sum(clicked) as {{ dbt.type_bigint() }}) as clicks,
        cast(sum(liked_click) as {{ dbt.type_bigint() }}) as liked_clicks
    from list_views
    group by activity_date, model_id, segment
),

final as (
    select
        -- keys
        activity_date,
        model_id,
        segment,

        -- measures
        list_views,
        clicks,
        liked_clicks,
        cast(clicks as {{ type_double() }}) / list_views as click_through,
        case
            when clicks > 0 then cast(liked_clicks as {{ type_double() }}) / clicks
        end as like_through,

        -- the seed's goals
        cast({{ var('baseline_click_through') }} as {{ type_double() }})
            as baseline_click_through,
        cast({{ var('target_click_through') }} as {{ type_double() }}) as target_click_through
    from daily
)

select * from final
