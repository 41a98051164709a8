with

models as (
    select * from {{ ref('ml_models') }}
),

classification as (
    select * from {{ ref('stg_ml_outputs__model_metrics') }}
),

ranking as (
    select * from {{ ref('stg_ml_outputs__evaluation_metrics') }}
),

-- held-out quality of the classifier: AUC, precision, recall, F1 per split
classification_rows as (
    select
        classification.model_id,
        'classifier' as evaluation_kind,
        classification.evaluation_split as evaluation_detail,
        'model' as recommender,
        'all' as segment,
        classification.metric_name,
        cast(null as {{ dbt.type_int() }}) as list_length,
        classification.metric_value
    from classification
    where classification.metric_name in ('auc', 'precision', 'recall', 'f1')
),

-- quality of the top-k lists against baselines, per segment, from the latest evaluation
-- of each model on each split
latest_evaluations as (
    select
        model_id,
        evaluation_split,
        max(evaluation_id) as evaluation_id
    from ranking
    group by model_id, evaluation_split
),

ranking_rows as (
    select
        ranking.model_id,
        'ranking' as evaluation_kind,
        ranking.evaluation_split as evaluation_detail,
        ranking.recommender,
        ranking.segment,
        ranking.metric_name,
        ranking.list_length,
        ranking.metric_value
    from ranking
    inner join latest_evaluations
        on ranking.evaluation_id = latest_evaluations.evaluation_id
),

unioned as (
    select * from classification_rows
    union all
    select * from ranking_rows
),

final as (
    select
        -- keys
        unioned.model_id,

        -- attributes
        unioned.evaluation_kind,
        unioned.evaluation_detail,
        unioned.recommender,
        unioned.segment,
        unioned.metric_name,

        -- measures
        unioned.list_length,
        unioned.metric_value,

        -- flags
        models.is_latest,

        -- timestamps
        models.created_at as model_created_at
    from unioned
    inner join models
        on unioned.model_id = models.model_id
)

select * from final
