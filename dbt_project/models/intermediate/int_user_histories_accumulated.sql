{{ config(materialized='incremental', unique_key='user_id') }}
-- incremental: the users the new viewings touch (macros/incremental.sql)
-- depends_on: {{ ref('stg_landing__interactions') }}

with

interactions as (
    select * from {{ ref('fct_interactions') }}
    {%- if is_incremental() %}
    where user_id in (select touched.user_id from ({{ new_viewings() }}) as touched)
    {%- endif %}
),

events as (
    select
        user_id,
        interacted_at as event_at,
        count(*) as interactions,
        sum(case when is_liked then 1 else 0 end) as likes
    from interactions
    group by
        user_id,
        interacted_at
),

final as (
    {{ history_intervals('events', ['user_id']) }}
)

select * from final
