with

users as (
    select * from "masked"."staging"."stg_landing__users"
),

preferred_genres as (
    select * from "masked"."intermediate"."int_user_preferred_genres_unnested"
),

preference_counts as (
    select
        user_id,
        count(*) as preferred_genre_count
    from preferred_genres
    group by user_id
),

final as (
    select
        -- keys
        users.user_id,

        -- attributes
        case
        when users.age_years < 25 then 'young'
        when users.age_years < 45 then 'adult'
        else 'senior'
    end as segment,
        users.gender,
        users.occupation,
        users.age_years,
        users.subscription_months,
        users.sessions_per_week,
        coalesce(preference_counts.preferred_genre_count, 0) as preferred_genre_count,

        -- flags
        preference_counts.user_id is not null as has_stated_preferences
    from users
    left join preference_counts
        on users.user_id = preference_counts.user_id
)

select * from final