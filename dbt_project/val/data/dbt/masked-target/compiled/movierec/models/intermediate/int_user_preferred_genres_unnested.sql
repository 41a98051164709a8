with

users as (
    select * from "masked"."staging"."stg_landing__users"
),

unnested as (
    select
        user_id,
        unnest(preferred_genres) as genre
    from users
    where preferred_genres is not null
),

-- a genre stated twice is still one preference
final as (
    select distinct
        user_id,
        cast(genre as TEXT) as genre
    from unnested
)

select * from final