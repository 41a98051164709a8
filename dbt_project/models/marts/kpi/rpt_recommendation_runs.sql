{{ config(materialized='incremental', unique_key='run_id') }}

-- incremental: a run's figures are fixed the night it lands (the catalogue as it was
-- then), so each night computes the new runs only

with

runs as (
    select * from {{ ref('stg_ml_outputs__recommendation_runs') }}
    {% if is_incremental() -%}
    where run_id not in (select run_id from {{ this }})
    {%- endif %}
),

recommendations as (
    select * from {{ ref('ml_recommendations') }}
    where run_id in (select runs.run_id from runs)
),

movies as (
    select * from {{ ref('dim_movies') }}
),

-- every catalogue film in every run, with how often it was shown (0 if never)
exposure as (
    select
        runs.run_id,
        movies.movie_id,
        count(recommendations.movie_id) as times_shown
    from runs
    cross join movies
    left join recommendations
        on
            runs.run_id = recommendations.run_id
            and movies.movie_id = recommendations.movie_id
    group by
        runs.run_id,
        movies.movie_id
),

ordered as (
    select
        run_id,
        times_shown,
        row_number() over (partition by run_id order by times_shown, movie_id) as exposure_position
    from exposure
),

concentration as (
    select
        run_id,
        count(*) as catalogue_films,
        sum(case when times_shown > 0 then 1 else 0 end) as films_shown,
        -- Gini over films, never-shown films included: 0 = equal exposure, 1 = one film
        case
            when sum(times_shown) > 0
                then
                    2.0 * sum(exposure_position * times_shown) / (count(*) * sum(times_shown))
                    - (count(*) + 1.0) / count(*)
        end as exposure_gini
    from ordered
    group by run_id
),

scores as (
    select
        run_id,
        avg(score) as avg_score,
        count(distinct user_id) as users_served
    from recommendations
    group by run_id
),

final as (
    select
        -- keys
        runs.run_id,
        runs.model_id,

        -- attributes
        runs.candidate_strategy,

        -- measures
        runs.top_n,
        concentration.catalogue_films,
        concentration.films_shown,
        concentration.exposure_gini,
        scores.avg_score,
        runs.pairs_scored,
        runs.cold_start_user_count,
        runs.run_seconds,
        coalesce(scores.users_served, 0) as users_served,
        concentration.films_shown * 1.0 / concentration.catalogue_films as catalogue_coverage,

        -- timestamps
        runs.generated_at
    from runs
    inner join concentration
        on runs.run_id = concentration.run_id
    left join scores
        on runs.run_id = scores.run_id
)

select * from final
