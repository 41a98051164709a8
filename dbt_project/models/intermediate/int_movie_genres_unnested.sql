with

movies as (
    select * from {{ ref('stg_landing__movies') }}
),

unnested as (
    select
        movie_id,
        {{ explode_array('genres') }} as genre
    from movies
),

final as (
    select distinct
        movie_id,
        cast(genre as {{ dbt.type_string() }}) as genre
    from unnested
)

select * from final
