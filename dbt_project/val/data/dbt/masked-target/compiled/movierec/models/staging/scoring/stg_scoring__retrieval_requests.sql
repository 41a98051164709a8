with

source as (
    select * from "masked"."scoring"."retrieval_requests"
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