{#-
    Create the tables Python writes (sources `ml_outputs`, `ops` and `scoring`) from the
    columns and data types of their source definitions: `ml_outputs` and `ops` tables if
    they do not exist yet (movierec creates them before dbt runs; this serves dbt run by
    hand), the `scoring` scratch tables afresh. Runs as an on-run-start hook, so any dbt
    invocation on a fresh warehouse can read them. Source `data_type`s are DuckDB's;
    `column_type` spells them for the engine.
-#}
{% macro create_python_output_tables() %}
    {%- if execute -%}
        {%- for source in graph.sources.values()
            if source.source_name in ('ml_outputs', 'scoring', 'ops') -%}
            {%- set columns = [] -%}
            {%- for column in source.columns.values() -%}
                {%- do columns.append(column.name ~ ' ' ~ column_type(column.data_type)) -%}
            {%- endfor -%}
            {%- do run_query('create schema if not exists ' ~ source.schema) -%}
            {%- do create_empty_table(
                source.schema ~ '.' ~ source.name, columns,
                replace=source.source_name == 'scoring'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{#- An empty table of `columns` ("name type" each); `replace`: drop one that exists. -#}
{% macro create_empty_table(name, columns, replace) -%}
    {{ return(adapter.dispatch('create_empty_table', 'movierec')(name, columns, replace)) }}
{%- endmacro %}

{% macro default__create_empty_table(name, columns, replace) -%}
    {%- do run_query(
        ('create or replace table ' if replace else 'create table if not exists ')
        ~ name ~ ' (' ~ columns | join(', ') ~ ')'
    ) -%}
{%- endmacro %}

{% macro spark__create_empty_table(name, columns, replace) -%}
    {%- if replace -%}
        {%- do run_query('drop table if exists ' ~ name) -%}
    {%- endif -%}
    {%- do run_query(
        'create table if not exists ' ~ name ~ ' (' ~ columns | join(', ') ~ ') using parquet'
    ) -%}
{%- endmacro %}
