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

default_moment as (
    select {{ scoring_as_of('max(interacted_at)') }} as requested_at
    from interactions
),

-- each request's own moment (an evaluation cut-off, or a user's latest viewing), else the
-- default
scoring_moments as (
    select
        scoring_requests.user_id,
        scoring_requests.movie_id,
        coalesce(scoring_requests.requested_at, default_moment.requested_at) as requested_at
    from scoring_requests
    cross join default_moment
),

-- when each user first viewed each film
first_views as (
    select * from {{ ref('int_user_first_viewings') }}
),

-- the requested pairs minus films the user had viewed before the scoring moment
requests as (
    select distinct
        scoring_moments.user_id,
        scoring_moments.movie_id,
        scoring_moments.requested_at
    from scoring_moments
    inner join users
        on scoring_moments.user_id = users.user_id
    inner join movies
        on scoring_moments.movie_id = movies.movie_id
    left join first_views
        on
            scoring_moments.user_id = first_views.user_id
            and scoring_moments.movie_id = first_views.movie_id
    where
        first_views.first_viewed_at is null
        or first_views.first_viewed_at >= scoring_moments.requested_at
),

{{ feature_ctes('requests') }}

final as (
    select * from features
)

select * from final
