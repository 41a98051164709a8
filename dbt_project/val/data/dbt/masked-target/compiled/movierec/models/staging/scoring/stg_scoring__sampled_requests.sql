with

source as (
    select * from "masked"."scoring"."sampled_requests"
),

renamed as (
    select
        -- keys
        user_id,
        movie_id,

        -- timestamps
        requested_at
    from source
)

select * from renamed