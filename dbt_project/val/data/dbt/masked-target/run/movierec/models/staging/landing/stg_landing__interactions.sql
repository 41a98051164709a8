
    

    create  table
      "masked"."staging"."stg_landing__interactions"
  
    
    as (
      
-- incremental: the new landed files only (macros/incremental.sql)

with

source as (
    select landed.*
    from (select * from read_parquet( 'raw/interactions/*.parquet', filename = true, file_row_number = true, union_by_name = true) union all by name select null::varchar as viewing_source, null::varchar as run_id, null::varchar as model_id, null::integer as recommendation_rank where false) as landed
    where
        not exists (
            select 1
            from "masked"."ops"."quarantined_rows" as quarantined
            where
                quarantined.landed_file = landed.filename
                and quarantined.file_row_number = landed.file_row_number
        )
),

renamed as (
    select
        -- keys
        cast(interaction_id as bigint) as interaction_id,
        cast(user_id as bigint) as user_id,
        cast(movie_id as bigint) as movie_id,

        -- measures
        cast(watch_fraction as double) as watch_fraction,
        cast(rating as integer) as rating,

        -- flags
        cast(is_liked as boolean) as is_liked,

        -- timestamps
        cast(interacted_at as timestamp) as interacted_at,

        -- how the viewer came to the film (the closed loop): NULL (MovieLens, worlds
        -- landed before it) is organic
        coalesce(cast(viewing_source as TEXT), 'organic') as viewing_source,
        cast(run_id as TEXT) as run_id,
        cast(model_id as TEXT) as model_id,
        cast(recommendation_rank as integer) as recommendation_rank,

        -- lineage
        cast(filename as TEXT) as landed_file
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
    );
    
  
  