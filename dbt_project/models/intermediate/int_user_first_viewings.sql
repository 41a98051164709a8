{{ config(materialized='incremental', unique_key=['user_id', 'movie_id']) }}
-- incremental: the (user, film) pairs the new viewings touch (macros/incremental.sql)
-- depends_on: {{ ref('stg_landing__interactions') }}

with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

{% if is_incremental() -%}
touched as (
    select distinct
        user_id,
        movie_id
    from ({{ new_viewings() }})
),

{% endif -%}

final as (
    select
        interactions.user_id,
        interactions.movie_id,
        min(interactions.interacted_at) as first_viewed_at
    from interactions
    {%- if is_incremental() %}
    inner join touched
        on
            interactions.user_id = touched.user_id
            and interactions.movie_id = touched.movie_id
    {%- endif %}
    group by
        interactions.user_id,
        interactions.movie_id
)

select * from final
