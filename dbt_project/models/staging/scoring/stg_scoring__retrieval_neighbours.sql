with

source as (
    select * from {{ source('scoring', 'retrieval_neighbours') }}
),

renamed as (
    select
        -- keys
        movie_id,
        other_movie_id,

        -- measures
        similarity,

        -- timestamps
        requested_at
    from source
)

select * from renamed
