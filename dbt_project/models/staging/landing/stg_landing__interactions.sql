{{ config(materialized='incremental', unique_key='interaction_id') }}
-- incremental: the new landed files only (macros/incremental.sql)

with

source as (
    {{ landed_rows('interactions', only_new=is_incremental()) }}
),

renamed as (
    select
        -- keys
        cast(interaction_id as {{ dbt.type_bigint() }}) as interaction_id,
        cast(user_id as {{ dbt.type_bigint() }}) as user_id,
        cast(movie_id as {{ dbt.type_bigint() }}) as movie_id,

        -- measures
        cast(watch_fraction as {{ type_double() }}) as watch_fraction,
        cast(rating as {{ dbt.type_int() }}) as rating,

        -- flags
        cast(is_liked as {{ dbt.type_boolean() }}) as is_liked,

        -- timestamps
        cast(interacted_at as {{ dbt.type_timestamp() }}) as interacted_at,

        -- how the viewer came to the film (the closed loop): NULL (MovieLens, worlds
        -- landed before it) is organic
        coalesce(cast(viewing_source as {{ dbt.type_string() }}), 'organic') as viewing_source,
        cast(run_id as {{ dbt.type_string() }}) as run_id,
        cast(model_id as {{ dbt.type_string() }}) as model_id,
        cast(recommendation_rank as {{ dbt.type_int() }}) as recommendation_rank,

        -- lineage
        cast(filename as {{ dbt.type_string() }}) as landed_file
    from source
),

-- a viewing re-delivered in a later batch keeps its newest version
ranked as (
    select
        *,
        row_number() over (
            partition by interaction_id order by landed_file desc
        ) as landing_rank
    from renamed
),

final as (
    select
        interaction_id,
        user_id,
        movie_id,
        watch_fraction,
        rating,
        is_liked,
        interacted_at,
        viewing_source,
        run_id,
        model_id,
        recommendation_rank,
        landed_file
    from ranked
    where landing_rank = 1
)

select * from final
