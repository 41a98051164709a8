{#-
    What every part of retrieval starts from (ml_retrieval_audiences and
    ml_retrieval_neighbours, the film-level half; ml_retrieval_candidates, the user-level
    half): the requests of the current run (stg_scoring__retrieval_requests, a NULL moment
    meaning the default scoring moment), their distinct moments, and each requesting
    user's films before their moment.
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

-- read by `histories` alone, so that DuckDB inlines it and the requests' users reach its
-- scan (a CTE read twice is materialized whole: every landed first viewing)
first_views as (
    select * from {{ ref('int_user_first_viewings') }}
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

{%- endmacro %}
