
    

    create  table
      "masked"."staging"."stg_landing__movies__dbt_tmp"
  
    
    as (
      with

source as (
    select landed.*
    from read_parquet('raw/movies/*.parquet', filename = true, file_row_number = true, union_by_name = true) as landed
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
        cast(movie_id as bigint) as movie_id,

        -- attributes
        cast(title as TEXT) as title,
        genres,
        cast(genres[1] as TEXT) as primary_genre,
        cast(release_year as integer) as release_year,
        cast(duration_minutes as double) as duration_minutes,
        cast(mean_rating as double) as mean_rating,
        cast(vote_count as bigint) as vote_count,

        -- lineage
        cast(filename as TEXT) as landed_file
    from source
),

-- batch files are named by landing time, so the greatest file name is the newest row
ranked as (
    select
        *,
        row_number() over (partition by movie_id order by landed_file desc) as landing_rank
    from renamed
),

final as (
    select
        movie_id,
        title,
        genres,
        primary_genre,
        release_year,
        duration_minutes,
        mean_rating,
        vote_count,
        landed_file
    from ranked
    where landing_rank = 1
)

select * from final
    );
    
  