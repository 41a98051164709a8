{#-
    What both halves of retrieval start from (ml_retrieval_neighbours, the film-level half,
    and ml_retrieval_candidates, the user-level half): the requests of the current run
    (stg_scoring__retrieval_requests, a NULL moment meaning the default scoring moment),
    each requesting user's films before their moment, and every film's distinct viewers
    before each moment and within the recent window before it.
    `retrieval_request_ctes()` emits these CTEs, with a trailing comma.
-#}
{% macro retrieval_request_ctes() -%}
retrieval_requests as (
    select * from {{ ref('stg_scoring__retrieval_requests') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

interactions as (
    select * from {{ ref('fct_interactions') }}
),

first_views as (
    select * from {{ ref('int_user_first_viewings') }}
),

movies as (
    select * from {{ ref('dim_movies') }}
),

viewer_histories as (
    select * from {{ ref('int_movie_viewer_histories_accumulated') }}
),

default_moment as (
    select {{ scoring_as_of('max(interacted_at)') }} as requested_at
    from interactions
),

requests as (
    select distinct
        retrieval_requests.user_id,
        coalesce(retrieval_requests.requested_at, default_moment.requested_at) as requested_at
    from retrieval_requests
    cross join default_moment
    inner join users on retrieval_requests.user_id = users.user_id
),

moments as (
    select distinct requested_at from requests
),

-- what each requesting user had viewed before their moment
histories as (
    select
        requests.user_id,
        requests.requested_at,
        first_views.movie_id
    from requests
    inner join first_views
        on
            requests.user_id = first_views.user_id
            and requests.requested_at > first_views.first_viewed_at
),

-- every film's distinct viewers before each moment, and within the recent window
film_viewers as (
    select
        moments.requested_at,
        movies.movie_id,
        now_history.prior_viewers as viewers,
        now_history.prior_viewers - coalesce(window_history.prior_viewers, 0)
            as recent_viewers
    from moments
    cross join movies
    inner join viewer_histories as now_history
        on
            movies.movie_id = now_history.movie_id
            and {{ interval_holds('now_history', 'moments.requested_at') }}
    left join viewer_histories as window_history
        on
            movies.movie_id = window_history.movie_id
            and {{ interval_holds(
                'window_history',
                dbt.dateadd('day', -var('recent_popularity_days'), 'moments.requested_at')
            ) }}
),
{%- endmacro %}
