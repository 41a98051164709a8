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

seen as (
    select distinct
        user_id,
        movie_id
    from interactions
),

-- the pairs the scorer asked for, minus films the user has viewed, at the scoring moment
requests as (
    select distinct
        scoring_requests.user_id,
        scoring_requests.movie_id,
        scoring_moment.requested_at
    from scoring_requests
    inner join users
        on scoring_requests.user_id = users.user_id
    inner join movies
        on scoring_requests.movie_id = movies.movie_id
    cross join scoring_moment
    left join seen
        on
            scoring_requests.user_id = seen.user_id
            and scoring_requests.movie_id = seen.movie_id
    where seen.user_id is null
),

{{ feature_ctes('requests') }}

final as (
    select * from features
)

select * from final
