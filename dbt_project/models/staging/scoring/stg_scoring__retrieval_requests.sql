with

source as (
    select * from {{ source('scoring', 'retrieval_requests') }}
),

renamed as (
    select
        -- keys
        user_id,

        -- timestamps
        requested_at
    from source
)

select * from renamed
