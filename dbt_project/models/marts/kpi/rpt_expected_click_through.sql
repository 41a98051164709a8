with

runs as (
    select * from {{ ref('rpt_recommendation_runs') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

latest_run as (
    select *
    from runs
    order by generated_at desc, run_id desc
    limit 1
),

user_base as (
    select count(*) as users_total from users
),

final as (
    select
        -- keys
        latest_run.run_id,
        latest_run.model_id,

        -- measures
        user_base.users_total,
        latest_run.users_served,
        latest_run.avg_score as avg_predicted_like,
        cast({{ var('clicks_per_predicted_like') }} as {{ type_double() }}) as clicks_per_predicted_like,
        least(1.0, latest_run.avg_score * cast({{ var('clicks_per_predicted_like') }} as {{ type_double() }}))
            as expected_click_through,
        cast({{ var('baseline_click_through') }} as {{ type_double() }}) as baseline_click_through,
        cast({{ var('target_click_through') }} as {{ type_double() }}) as target_click_through,
        least(1.0, latest_run.avg_score * cast({{ var('clicks_per_predicted_like') }} as {{ type_double() }}))
        / cast({{ var('baseline_click_through') }} as {{ type_double() }}) - 1.0 as lift_over_baseline,

        -- flags
        least(1.0, latest_run.avg_score * cast({{ var('clicks_per_predicted_like') }} as {{ type_double() }}))
        >= cast({{ var('target_click_through') }} as {{ type_double() }}) as meets_target,

        -- timestamps
        latest_run.generated_at
    from latest_run
    cross join user_base
)

select * from final
