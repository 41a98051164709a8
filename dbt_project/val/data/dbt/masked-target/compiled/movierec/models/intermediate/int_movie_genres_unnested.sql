with

movies as (
    select * from "masked"."staging"."stg_landing__movies"
),

unnested as (
    select
        movie_id,
        unnest(genres) as genre
    from movies
),

final as (
    select distinct
        movie_id,
        cast(genre as TEXT) as genre
    from unnested
)

select * from final