-- Position bias, realised (docs/kpi.md): per model and rank, the share of its list views
-- that ended in a click on the film at that rank. Every list view shows every rank, so
-- the denominator is the model's list views.

with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

views_per_model as (
    select
        model_id,
        count(*) as list_views
    from interactions
    where run_id is not null
    group by model_id
),

clicks_per_rank as (
    select
        model_id,
        recommendation_rank,
        count(*) as clicks,
        cast(sum(case when is_liked then 1 else 0 end) as {{ dbt.type_bigint() }}) as liked_clicks
    from interactions
    where viewing_source = 'recommendation'
    group by model_id, recommendation_rank
),

final as (
    select
        -- keys
        clicks_per_rank.model_id,
        clicks_per_rank.recommendation_rank,

        -- measures
        views_per_model.list_views,
        clicks_per_rank.clicks,
        clicks_per_rank.liked_clicks,
        cast(clicks_per_rank.clicks as {{ type_double() }})
        / views_per_model.list_views as click_through
    from clicks_per_rank
    inner join views_per_model
        on clicks_per_rank.model_id = views_per_model.model_id
)

select * from final
