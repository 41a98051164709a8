with

runs as (
    select * from {{ ref('rpt_recommendation_runs') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

-- the business assumptions, from project vars
assumptions as (
    select
        cast({{ var('clicks_per_predicted_like') }} as {{ type_double() }})
            as clicks_per_predicted_like,
        cast({{ var('baseline_click_through') }} as {{ type_double() }})
            as baseline_click_through,
        cast({{ var('target_click_through') }} as {{ type_double() }})
            as target_click_through
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

expected as (
    select
        latest_run.run_id,
        latest_run.model_id,
        user_base.users_total,
        latest_run.users_served,
        latest_run.avg_score as avg_predicted_like,
        assumptions.clicks_per_predicted_like,
        assumptions.baseline_click_through,
        assumptions.target_click_through,
        latest_run.generated_at,
        least(1.0, latest_run.avg_score * assumptions.clicks_per_predicted_like)
            as expected_click_through
    from latest_run
    cross join user_base
    cross join assumptions
),

final as (
    select
        -- keys
        run_id,
        model_id,

        -- measures
        users_total,
        users_served,
        avg_predicted_like,
        clicks_per_predicted_like,
        expected_click_through,
        baseline_click_through,
        target_click_through,
        expected_click_through / baseline_click_through - 1.0 as lift_over_baseline,

        -- flags
        expected_click_through >= target_click_through as meets_target,

        -- timestamps
        generated_at
    from expected
)

select * from final
