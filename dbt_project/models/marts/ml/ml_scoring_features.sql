with

users as (
    select * from {{ ref('dim_users') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

interactions as (
    select * from {{ ref('fct_interactions') }}
),

scoring_moment as (
    select {{ scoring_as_of('max(interacted_at)') }} as requested_at
    from interactions
),

seen as (
    select distinct
        user_id,
        movie_id
    from interactions
),

-- every user against every film they have not viewed, at the scoring moment
requests as (
    select
        users.user_id,
        movies.movie_id,
        scoring_moment.requested_at
    from users
    cross join movies
    cross join scoring_moment
    left join seen
        on
            users.user_id = seen.user_id
            and movies.movie_id = seen.movie_id
    where seen.user_id is null
),

{{ feature_ctes('requests') }}

final as (
    select * from features
)

select * from final
