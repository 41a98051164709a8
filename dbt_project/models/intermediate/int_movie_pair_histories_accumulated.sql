{{ config(materialized='incremental', unique_key=['movie_id', 'other_movie_id']) }}
-- incremental: the pairs of films the new viewings touch (macros/incremental.sql)
-- depends_on: {{ ref('stg_landing__interactions') }}

with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

-- each user's first viewing of each film: a re-watch adds no co-viewer
first_views as (
    select
        user_id,
        movie_id,
        min(interacted_at) as first_viewed_at,
        max(case when is_liked then 1 else 0 end) as liked
    from interactions
    group by
        user_id,
        movie_id
),

{% if is_incremental() -%}
-- every pair of a film a new viewing is of with another film of the same viewer
touched as (
    select distinct
        least(new_views.movie_id, other_views.movie_id) as movie_id,
        greatest(new_views.movie_id, other_views.movie_id) as other_movie_id
    from ({{ new_viewings() }}) as new_views
    inner join first_views as other_views
        on
            new_views.user_id = other_views.user_id
            and new_views.movie_id != other_views.movie_id
),

{% endif -%}

-- two films become co-viewed by a user when the user has viewed both (the later view);
-- each unordered pair once, as (smaller id, larger id)
co_views as (
    select
        earlier.movie_id,
        later.movie_id as other_movie_id,
        greatest(earlier.first_viewed_at, later.first_viewed_at) as event_at,
        earlier.liked * later.liked as both_liked
    from first_views as earlier
    inner join first_views as later
        on
            earlier.user_id = later.user_id
            and earlier.movie_id < later.movie_id
    {%- if is_incremental() %}
    inner join touched
        on
            earlier.movie_id = touched.movie_id
            and later.movie_id = touched.other_movie_id
    {%- endif %}
),

events as (
    select
        movie_id,
        other_movie_id,
        event_at,
        count(*) as interactions,
        sum(both_liked) as likes
    from co_views
    group by
        movie_id,
        other_movie_id,
        event_at
),

final as (
    {{ history_intervals('events', ['movie_id', 'other_movie_id']) }}
)

select * from final
