with

click_through as (
    select * from {{ ref('rpt_expected_click_through') }}
),

-- the business assumptions, from project vars
assumptions as (
    select
        cast({{ var('monthly_revenue_per_engaged_user') }} as {{ type_double() }})
            as monthly_revenue_per_engaged_user,
        cast({{ var('development_cost') }} as {{ type_double() }}) as development_cost,
        cast({{ var('yearly_infrastructure_cost') }} as {{ type_double() }})
            as yearly_infrastructure_cost
),

-- the seed multiplied its user count by a percentage uplift and could count more users
-- than exist; here the lift converts at most that share of users, never more than all
impacted as (
    select
        click_through.run_id,
        click_through.model_id,
        click_through.users_total,
        click_through.lift_over_baseline,
        assumptions.monthly_revenue_per_engaged_user,
        assumptions.development_cost,
        assumptions.yearly_infrastructure_cost,
        cast(
            floor(
                click_through.users_total
                * greatest(0.0, least(1.0, click_through.lift_over_baseline))
            ) as {{ dbt.type_bigint() }}
        ) as users_impacted
    from click_through
    cross join assumptions
),

final as (
    select
        -- keys
        run_id,
        model_id,

        -- measures
        users_total,
        users_impacted,
        lift_over_baseline,
        development_cost,
        yearly_infrastructure_cost,
        users_impacted * monthly_revenue_per_engaged_user * 12 as yearly_extra_revenue,
        (
            users_impacted * monthly_revenue_per_engaged_user * 12
            - yearly_infrastructure_cost
            - development_cost
        ) / development_cost as first_year_return_on_development
    from impacted
)

select * from final
