{#-
    Masked-history training (negative_sampling = "masked", docs/model.md): a seeded
    `training_mask_share` of each user's films. A build with the var set (the masked
    world, built beside the warehouse for training only) drops them from fct_interactions,
    so every model downstream sees the rest of the history as if these viewings had never
    happened, and re-ranker training labels retrieval's candidates by them. Empty with the
    default share 0: the published warehouse hides nothing.
-#}

with

interactions as (
    select * from {{ ref('stg_landing__interactions') }}
),

films as (
    select
        user_id,
        movie_id,
        min(interacted_at) as first_viewed_at
    from interactions
    group by
        user_id,
        movie_id
),

drawn as (
    select
        user_id,
        movie_id,
        first_viewed_at,
        row_number() over (
            partition by user_id
            order by hash(user_id, movie_id, {{ var('training_mask_seed') }}), movie_id
        ) as draw,
        count(*) over (partition by user_id) as films
    from films
),

final as (
    select
        user_id,
        movie_id,
        first_viewed_at
    from drawn
    where draw <= floor(films * {{ var('training_mask_share') }})
)

select * from final
