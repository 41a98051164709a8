with

scoring_requests as (
    select * from {{ ref('stg_scoring__scoring_requests') }}
),

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

requested as (
    select distinct
        scoring_requests.user_id,
        scoring_requests.movie_id,
        coalesce(scoring_requests.requested_at, scoring_moment.requested_at) as requested_at
    from scoring_requests
    inner join users
        on scoring_requests.user_id = users.user_id
    inner join movies
        on scoring_requests.movie_id = movies.movie_id
    cross join scoring_moment
),

-- the requested pairs minus films the user had viewed before the request's moment
requests as (
    select
        requested.user_id,
        requested.movie_id,
        requested.requested_at
    from requested
    where not exists (
        select 1
        from interactions
        where
            interactions.user_id = requested.user_id
            and interactions.movie_id = requested.movie_id
            and interactions.interacted_at < requested.requested_at
    )
),

{{ feature_ctes('requests') }}

final as (
    select * from features
)

select * from final
