{{ config(materialized='view') }}

with

recommendations as (
    select * from {{ ref('ml_recommendations') }}
),

latest_run as (
    select run_id
    from recommendations
    order by generated_at desc, run_id desc
    limit 1
),

final as (
    select
        recommendations.run_id,
        recommendations.user_id,
        recommendations.movie_id,
        recommendations.model_id,
        recommendations.segment,
        recommendations.title,
        recommendations.primary_genre,
        recommendations.candidate_strategy,
        recommendations.recommendation_rank,
        recommendations.score,
        recommendations.features_as_of,
        recommendations.generated_at
    from recommendations
    inner join latest_run
        on recommendations.run_id = latest_run.run_id
)

select * from final
