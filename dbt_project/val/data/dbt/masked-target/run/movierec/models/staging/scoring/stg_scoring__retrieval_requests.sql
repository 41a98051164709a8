
  
  create view "masked"."staging"."stg_scoring__retrieval_requests__dbt_tmp" as (
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
  );
