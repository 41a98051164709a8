with

click_through as (
    select * from {{ ref('rpt_expected_click_through') }}
),

-- the seed multiplied its user count by a percentage uplift and could count more users
-- than exist; here an uplift only converts users, never more than the user base
impacted as (
    select
        run_id,
        model_id,
        users_total,
        lift_over_baseline,
        least(
            users_total,
            cast(floor(users_total * greatest(0.0, least(1.0, lift_over_baseline))) as {{ dbt.type_bigint() }})
        ) as users_impacted
    from click_through
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
        users_impacted * cast({{ var('monthly_revenue_per_engaged_user') }} as {{ type_double() }}) * 12
            as yearly_extra_revenue,
        cast({{ var('development_cost') }} as {{ type_double() }}) as development_cost,
        cast({{ var('yearly_infrastructure_cost') }} as {{ type_double() }}) as yearly_infrastructure_cost,
        (
            users_impacted * cast({{ var('monthly_revenue_per_engaged_user') }} as {{ type_double() }}) * 12
            - cast({{ var('yearly_infrastructure_cost') }} as {{ type_double() }}) - cast({{ var('development_cost') }} as {{ type_double() }})
        ) / cast({{ var('development_cost') }} as {{ type_double() }}) as first_year_return_on_development
    from impacted
)

select * from final
