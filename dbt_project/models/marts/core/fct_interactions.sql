with

interactions as (
    select * from {{ ref('stg_landing__interactions') }}
),

final as (
    select
        -- keys
        interaction_id,
        user_id,
        movie_id,

        -- measures
        watch_fraction,
        rating,

        -- flags
        is_liked,

        -- timestamps
        interacted_at
    from interactions
)

select * from final
