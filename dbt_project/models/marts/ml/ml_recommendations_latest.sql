{{ config(materialized='view') }}

with

recommendations as (
    select * from {{ ref('ml_recommendations') }}
),

runs as (
    select * from {{ ref('stg_ml_outputs__recommendation_runs') }}
),

-- the newest run, from the runs log (one row a night) rather than from every list
latest_run as (
    select run_id
    from runs
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
    -- a filter, not a join: DuckDB skips the row groups of older runs
    where recommendations.run_id = (select latest_run.run_id from latest_run)
)

select * from final
