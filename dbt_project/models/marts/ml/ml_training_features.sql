with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

-- every past viewing asks for its features as of the moment it happened
requests as (
    select
        interaction_id,
        user_id,
        movie_id,
        interacted_at as requested_at,
        is_liked
    from interactions
),

{{ feature_ctes('requests') }}

final as (
    select * from features
)

select * from final
