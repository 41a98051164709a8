{#-
    Create the tables Python writes (sources `ml_outputs`, `ops` and `scoring`) from the
    columns and data types of their source definitions: `ml_outputs` and `ops` tables if
    they do not exist yet (movierec creates them before dbt runs; this serves dbt run by
    hand), the `scoring` scratch tables afresh. Runs as an on-run-start hook, so any dbt
    invocation on a fresh warehouse can read them.
-#}
{% macro create_python_output_tables() %}
    {%- if execute -%}
        {%- for source in graph.sources.values()
            if source.source_name in ('ml_outputs', 'scoring', 'ops') -%}
            {%- set columns = [] -%}
            {%- for column in source.columns.values() -%}
                {%- do columns.append(column.name ~ ' ' ~ column.data_type) -%}
            {%- endfor %}
create schema if not exists {{ source.schema }};
{% if source.source_name == 'scoring' -%}
create or replace table {{ source.schema }}.{{ source.name }} ({{ columns | join(', ') }});
{%- else -%}
create table if not exists {{ source.schema }}.{{ source.name }} ({{ columns | join(', ') }});
{%- endif %}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
