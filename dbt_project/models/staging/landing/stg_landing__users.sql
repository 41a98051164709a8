with

source as (
    {{ landed_rows('users') }}
),

renamed as (
    select
        -- keys
        cast(user_id as {{ dbt.type_bigint() }}) as user_id,

        -- attributes
        cast(gender as {{ dbt.type_string() }}) as gender,
        cast(occupation as {{ dbt.type_string() }}) as occupation,
        preferred_genres,
        cast(age as {{ type_double() }}) as age_years,
        cast(subscription_months as {{ type_double() }}) as subscription_months,
        cast(sessions_per_week as {{ dbt.type_int() }}) as sessions_per_week,

        -- lineage
        cast(filename as {{ dbt.type_string() }}) as landed_file
    from source
),

-- batch files are named by landing time, so the greatest file name is the newest row
ranked as (
    select
        *,
        row_number() over (partition by user_id order by landed_file desc) as landing_rank
    from renamed
),

final as (
    select
        user_id,
        gender,
        occupation,
        preferred_genres,
        age_years,
        subscription_months,
        sessions_per_week,
        landed_file
    from ranked
    where landing_rank = 1
)

select * from final
