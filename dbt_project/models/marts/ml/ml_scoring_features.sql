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

-- the requested films' signals at their moments, kept by the scorer before it reads this
-- view (ml_scoring_film_signals computes them; warehouse/requests.py)
kept_film_signals as (
    select * from {{ ref('stg_scoring__film_signals') }}
),

{{ scoring_moment_ctes('scoring_requests') }}

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

{{ feature_ctes('requests', film_signals='kept_film_signals') }}

final as (
    select * from features
)

select * from final
