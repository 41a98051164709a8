with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

final as (
    select
        user_id,
        movie_id,
        min(interacted_at) as first_viewed_at
    from interactions
    group by
        user_id,
        movie_id
)

select * from final
