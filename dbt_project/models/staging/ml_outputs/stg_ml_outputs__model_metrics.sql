with

source as (
    select * from {{ source('ml_outputs', 'model_metrics') }}
),

renamed as (
    select
        -- keys
        model_id,

        -- attributes
        split as evaluation_split,
        metric as metric_name,

        -- measures
        value as metric_value
    from source
)

select * from renamed
