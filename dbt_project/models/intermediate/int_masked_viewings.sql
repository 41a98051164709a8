{#-
    Masked-history training (negative_sampling = "masked", docs/model.md): a seeded
    `training_mask_share` of each user's films, and every film of a seeded
    `training_cold_share` of the users (newcomers, as the masked world shows them). A
    build with the var set (the masked
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

viewers as (
    select distinct user_id
    from films
),

-- the users the masked world shows as newcomers: every film of theirs hidden
cold_users as (
    select user_id
    from (
        select
            user_id,
            row_number() over (
                order by hash(user_id, {{ var('training_mask_seed') }}), user_id
            ) as draw,
            count(*) over () as users
        from viewers
    ) as drawn_users
    where draw <= floor(users * {{ var('training_cold_share') }})
),

drawn as (
    select
        films.user_id,
        films.movie_id,
        films.first_viewed_at,
        row_number() over (
            partition by films.user_id
            order by hash(films.user_id, films.movie_id, {{ var('training_mask_seed') }}),
                films.movie_id
        ) as draw,
        count(*) over (partition by films.user_id) as films,
        cold_users.user_id is not null as is_cold
    from films
    left join cold_users
        on films.user_id = cold_users.user_id
),

final as (
    select
        user_id,
        movie_id,
        first_viewed_at
    from drawn
    where is_cold or draw <= floor(films * {{ var('training_mask_share') }})
)

select * from final
