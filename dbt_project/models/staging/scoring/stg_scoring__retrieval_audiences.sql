with

source as (
    select * from {{ source('scoring', 'retrieval_audiences') }}
),

renamed as (
    select
        -- keys
        movie_id,

        -- measures
        viewers,
        recent_viewers,

        -- timestamps
        requested_at
    from source
)

select * from renamed
