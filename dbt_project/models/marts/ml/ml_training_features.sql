{{ config(materialized='incremental', unique_key='interaction_id', on_schema_change='fail') }}
-- on_schema_change: an enforced contract on an incremental model requires 'fail'
-- incremental: the viewings from the earliest new one on, whose features the new viewings
-- may change (macros/incremental.sql)
-- depends_on: {{ ref('stg_landing__interactions') }}
-- batches: a build whose viewings would not fit DuckDB's memory_limit in one query runs
-- this model once per window of viewings (MOVIEREC_FEATURE_WINDOW, set by movierec:
-- docs/memory.md); each run replaces its window's rows. Without it: one query.
{%- set window = fromjson(env_var('MOVIEREC_FEATURE_WINDOW', '{}')) %}

with

interactions as (
    select * from {{ ref('fct_interactions') }}
),

-- every past viewing asks for its features as of the moment it happened
requests as (
    select
        interaction_id,
        user_id,
        movie_id,
        interacted_at as requested_at,
        is_liked
    from interactions
    {%- if window %}
    -- one batch of a build in batches: the viewings in its window
    where true
        {%- if window.get('from') %}
        and interacted_at >= cast('{{ window["from"] }}' as {{ dbt.type_timestamp() }})
        {%- endif %}
        {%- if window.get('until') %}
        and interacted_at < cast('{{ window["until"] }}' as {{ dbt.type_timestamp() }})
        {%- endif %}
    {%- elif is_incremental() %}
    -- a feature at t sees viewings strictly before t only
    where interacted_at >= (select min(touched.interacted_at) from ({{ new_viewings() }}) as touched)
    {%- endif %}
),

{{ feature_ctes('requests') }}

final as (
    select * from features
)

select * from final
