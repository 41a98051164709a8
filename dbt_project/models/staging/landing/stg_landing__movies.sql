with

source as (
    {{ landed_rows('movies') }}
),

renamed as (
    select
        -- keys
        cast(movie_id as {{ dbt.type_bigint() }}) as movie_id,

        -- attributes
        cast(title as {{ dbt.type_string() }}) as title,
        genres,
        cast({{ array_element('genres', 1) }} as {{ dbt.type_string() }}) as primary_genre,
        cast(release_year as {{ dbt.type_int() }}) as release_year,
        cast(duration_minutes as {{ type_double() }}) as duration_minutes,
        cast(mean_rating as {{ type_double() }}) as mean_rating,
        cast(vote_count as {{ dbt.type_bigint() }}) as vote_count,

        -- lineage
        cast(filename as {{ dbt.type_string() }}) as landed_file
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
