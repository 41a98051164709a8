{{ config(materialized='incremental', unique_key=['user_id', 'genre']) }}
-- incremental: the users the new viewings touch (macros/incremental.sql)
-- depends_on: {{ ref('stg_landing__interactions') }}

with

interactions as (
    select * from {{ ref('fct_interactions') }}
    {%- if is_incremental() %}
    where user_id in (select touched.user_id from ({{ new_viewings() }}) as touched)
    {%- endif %}
),

movie_genres as (
    select * from {{ ref('int_movie_genres_unnested') }}
),

events as (
    select
        interactions.user_id,
        movie_genres.genre,
        interactions.interacted_at as event_at,
        count(*) as interactions,
        sum(case when interactions.is_liked then 1 else 0 end) as likes
    from interactions
    inner join movie_genres
        on interactions.movie_id = movie_genres.movie_id
    group by
        interactions.user_id,
        movie_genres.genre,
        interactions.interacted_at
),

final as (
    {{ history_intervals('events', ['user_id', 'genre']) }}
)

select * from final
