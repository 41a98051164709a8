with

source as (
    select * from {{ source('ml_outputs', 'model_registry') }}
),

renamed as (
    select
        -- keys
        model_id,

        -- attributes
        feature_set,
        features as features_json,
        params as params_json,
        onnx_path,
        onnx_sha256,

        -- measures
        training_rows,
        agreement_max_abs_diff,
        agreement_rows,

        -- timestamps
        trained_from,
        trained_through,
        created_at
    from source
)

select * from renamed
