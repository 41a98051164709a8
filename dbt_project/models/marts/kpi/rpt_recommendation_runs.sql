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

-- each list's mix: the share of its pairs of films whose main genres differ (1 = no two
-- films share a main genre, 0 = one genre), averaged over the lists of the run
list_genres as (
    select
        recommendations.run_id,
        recommendations.user_id,
        movies.primary_genre,
        count(*) as films
    from recommendations
    inner join movies
        on recommendations.movie_id = movies.movie_id
    group by
        recommendations.run_id,
        recommendations.user_id,
        movies.primary_genre
),

lists as (
    select
        run_id,
        user_id,
        sum(films) as films,
        sum(films * (films - 1)) as same_genre_pairs
    from list_genres
    group by run_id, user_id
),

diversity as (
    select
        run_id,
        avg(
            case
                when films > 1
                    then 1 - cast(same_genre_pairs as {{ type_double() }}) / (films * (films - 1))
            end
        ) as intra_list_diversity
    from lists
    group by run_id
),

-- the filter bubble's other side: of the films shown to users who stated genres, the
-- share none of whose genres they stated
stated as (
    select distinct
        user_id,
        genre
    from {{ ref('int_user_preferred_genres_unnested') }}
),

stating_users as (
    select distinct user_id from stated
),

in_stated_genres as (
    select distinct
        recommendations.run_id,
        recommendations.user_id,
        recommendations.movie_id
    from recommendations
    inner join {{ ref('int_movie_genres_unnested') }} as movie_genres
        on recommendations.movie_id = movie_genres.movie_id
    inner join stated
        on
            recommendations.user_id = stated.user_id
            and movie_genres.genre = stated.genre
),

outside as (
    select
        recommendations.run_id,
        avg(
            cast(
                case when in_stated_genres.movie_id is null then 1 else 0 end
                as {{ type_double() }}
            )
        ) as outside_stated_genres_share
    from recommendations
    inner join stating_users
        on recommendations.user_id = stating_users.user_id
    left join in_stated_genres
        on
            recommendations.run_id = in_stated_genres.run_id
            and recommendations.user_id = in_stated_genres.user_id
            and recommendations.movie_id = in_stated_genres.movie_id
    group by recommendations.run_id
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
        diversity.intra_list_diversity,
        outside.outside_stated_genres_share,

        -- timestamps
        runs.generated_at
    from runs
    inner join concentration
        on runs.run_id = concentration.run_id
    left join scores
        on runs.run_id = scores.run_id
    left join diversity
        on runs.run_id = diversity.run_id
    left join outside
        on runs.run_id = outside.run_id
)

select * from final
