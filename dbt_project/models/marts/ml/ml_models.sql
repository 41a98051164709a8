-- the registered models are trained on ml_training_features (by `movierec train`):
-- depends_on: {{ ref('ml_training_features') }}

with

registry as (
    select * from {{ ref('stg_ml_outputs__model_registry') }}
),

metrics as (
    select * from {{ ref('stg_ml_outputs__model_metrics') }}
),

pivoted as (
    select
        model_id,
        {% for split in ['time', 'random', 'oob'] -%}
        {% for metric in ['auc', 'precision', 'recall', 'f1'] -%}
        max(metric_value) filter (
            where evaluation_split = '{{ split }}' and metric_name = '{{ metric }}'
        ) as {{ split }}_split_{{ metric }},
        {% endfor -%}
        {% endfor -%}
        max(metric_value) filter (
            where evaluation_split = 'time' and metric_name = 'fit_seconds'
        ) as time_split_fit_seconds
    from metrics
    group by model_id
),

final as (
    select
        -- keys
        registry.model_id,

        -- attributes
        registry.feature_set,
        registry.features_json,
        registry.params_json,
        registry.onnx_path,
        registry.onnx_sha256,

        -- measures
        registry.training_rows,
        registry.agreement_max_abs_diff,
        {% for split in ['time', 'random', 'oob'] -%}
        {% for metric in ['auc', 'precision', 'recall', 'f1'] -%}
        pivoted.{{ split }}_split_{{ metric }},
        {% endfor -%}
        {% endfor -%}
        pivoted.time_split_fit_seconds,

        -- flags
        registry.created_at = max(registry.created_at) over () as is_latest,

        -- timestamps
        registry.trained_from,
        registry.trained_through,
        registry.created_at
    from registry
    left join pivoted
        on registry.model_id = pivoted.model_id
)

select * from final
