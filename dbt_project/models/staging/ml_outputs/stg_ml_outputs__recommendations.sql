with

source as (
    select * from {{ source('ml_outputs', 'recommendations') }}
),

renamed as (
    select
        -- keys
        run_id,
        user_id,
        movie_id,
        model_id,

        -- measures
        rank as recommendation_rank,
        score,

        -- timestamps
        generated_at,
        coalesce(scored_at, generated_at) as scored_at
    from source
)

select * from renamed
