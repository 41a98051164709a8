{{ config(materialized='incremental', incremental_strategy='append') }}

-- the lists are scored on ml_scoring_features (by `movierec recommend`):
-- depends_on: {{ ref('ml_scoring_features') }}

with

recommendations as (
    select * from {{ ref('stg_ml_outputs__recommendations') }}
),

runs as (
    select * from {{ ref('stg_ml_outputs__recommendation_runs') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

new_recommendations as (
    select * from recommendations
    {% if is_incremental() -%}
    -- runs are appended whole and in time order, so the runs already here are complete
    -- and the new ones are later (a max over generated_at, not a scan of every run_id)
    where generated_at > (select coalesce(max(generated_at), '1900-01-01') from {{ this }})
    {%- endif %}
),

final as (
    select
        -- keys
        new_recommendations.run_id,
        new_recommendations.user_id,
        new_recommendations.movie_id,
        new_recommendations.model_id,

        -- attributes
        users.segment,
        movies.title,
        movies.primary_genre,
        runs.candidate_strategy,

        -- measures
        new_recommendations.recommendation_rank,
        new_recommendations.score,

        -- timestamps
        runs.features_as_of,
        new_recommendations.generated_at,
        new_recommendations.scored_at
    from new_recommendations
    inner join runs
        on new_recommendations.run_id = runs.run_id
    left join users
        on new_recommendations.user_id = users.user_id
    left join movies
        on new_recommendations.movie_id = movies.movie_id
)

select * from final
