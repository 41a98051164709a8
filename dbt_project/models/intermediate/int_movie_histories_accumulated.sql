{{ config(materialized='incremental', unique_key='movie_id') }}
-- incremental: the films the new viewings touch (macros/incremental.sql)
-- depends_on: {{ ref('stg_landing__interactions') }}

with

interactions as (
    select * from {{ ref('fct_interactions') }}
    {%- if is_incremental() %}
    where movie_id in (select touched.movie_id from ({{ new_viewings() }}) as touched)
    {%- endif %}
),

events as (
    select
        movie_id,
        interacted_at as event_at,
        count(*) as interactions,
        sum(case when is_liked then 1 else 0 end) as likes
    from interactions
    group by
        movie_id,
        interacted_at
),

final as (
    {{ history_intervals('events', ['movie_id']) }}
)

select * from final
