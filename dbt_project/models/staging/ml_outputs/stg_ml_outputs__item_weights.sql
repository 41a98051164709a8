with

source as (
    select * from {{ source('ml_weights', 'item_weights') }}
),

renamed as (
    select
        -- keys
        movie_id,
        other_movie_id,

        -- measures
        weight,

        -- timestamps
        fitted_at
    from source
)

select * from renamed
