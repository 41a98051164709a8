with

source as (
    select * from {{ source('scoring', 'film_signals') }}
),

renamed as (
    select
        -- keys
        movie_id,

        -- measures
        film_prior_views,
        film_recent_views,

        -- timestamps
        requested_at
    from source
)

select * from renamed
