with

source as (
    select * from {{ source('ml_outputs', 'evaluation_metrics') }}
),

renamed as (
    select
        -- keys
        evaluation_id,
        model_id,

        -- attributes
        coalesce(split, 'time') as evaluation_split,
        recommender,
        segment,
        metric as metric_name,

        -- measures
        k as list_length,
        value as metric_value,

        -- timestamps
        cutoff as cutoff_at,
        evaluated_at
    from source
)

select * from renamed
