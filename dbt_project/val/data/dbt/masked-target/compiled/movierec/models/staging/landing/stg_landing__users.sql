with

source as (
    select landed.*
    from read_parquet('raw/users/*.parquet', filename = true, file_row_number = true, union_by_name = true) as landed
    where
        not exists (
            select 1
            from "masked"."ops"."quarantined_rows" as quarantined
            where
                quarantined.landed_file = landed.filename
                and quarantined.file_row_number = landed.file_row_number
        )
),

renamed as (
    select
        -- keys
        cast(user_id as bigint) as user_id,

        -- attributes
        cast(gender as TEXT) as gender,
        cast(occupation as TEXT) as occupation,
        preferred_genres,
        cast(age as double) as age_years,
        cast(subscription_months as double) as subscription_months,
        cast(sessions_per_week as integer) as sessions_per_week,

        -- lineage
        cast(filename as TEXT) as landed_file
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