with

source as (
    select * from {{ source('scoring', 'scoring_requests') }}
),

renamed as (
    select
        -- keys
        user_id,
        movie_id
    from source
)

select * from renamed
