with

source as (
    select * from {{ source('ml_outputs', 'recommendation_runs') }}
),

renamed as (
    select
        -- keys
        run_id,
        model_id,
        challenger_model_id,

        -- attributes
        candidate_strategy,

        -- measures
        top_n,
        users as user_count,
        pairs_scored,
        cold_start_users as cold_start_user_count,
        coalesce(users_rescored, users) as rescored_user_count,
        seconds as run_seconds,
        coalesce(challenger_share, 0) as challenger_share,

        -- timestamps
        features_as_of,
        generated_at
    from source
)

select * from renamed
