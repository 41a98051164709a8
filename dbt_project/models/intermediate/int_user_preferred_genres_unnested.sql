with

users as (
    select * from {{ ref('stg_landing__users') }}
),

unnested as (
    select
        user_id,
        {{ explode_array('preferred_genres') }} as genre
    from users
    where preferred_genres is not null
),

-- a genre stated twice is still one preference
final as (
    select distinct
        user_id,
        cast(genre as {{ dbt.type_string() }}) as genre
    from unnested
)

select * from final
