{{ config(materialized='incremental', unique_key='user_id') }}
-- incremental: the users the new viewings touch (macros/incremental.sql)
-- depends_on: {{ ref('stg_landing__interactions') }}
-- depends_on: {{ ref('fct_interactions') }}

with

first_views as (
    select * from {{ ref('int_user_first_viewings') }}
    {%- if is_incremental() %}
    where user_id in (select touched.user_id from ({{ new_viewings() }}) as touched)
    {%- endif %}
),

events as (
    select
        user_id,
        first_viewed_at as event_at,
        count(*) as interactions,
        0 as likes
    from first_views
    group by
        user_id,
        first_viewed_at
),

final as (
    {{ history_intervals('events', ['user_id']) }}
)

select
    user_id,
    valid_after,
    valid_until,
    prior_interactions as prior_films
from final
