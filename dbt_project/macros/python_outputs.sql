{#-
    Create the tables Python writes (sources `ml_outputs`, `ml_weights`, `ops` and
    `scoring`) from the columns and data types of their source definitions: `ml_outputs`,
    `ml_weights` and `ops` tables if they do not exist yet (movierec creates them before
    dbt runs; this serves dbt run by hand), the `scoring` scratch tables afresh. Runs as an on-run-start hook, so any dbt
    invocation on a fresh warehouse can read them. Source `data_type`s are DuckDB's;
    `column_type` spells them for the engine.
-#}
{% macro create_python_output_tables() %}
    {%- set statements = [] -%}
    {%- if execute -%}
        {%- for source in graph.sources.values()
            if source.source_name in ('ml_outputs', 'ml_weights', 'scoring', 'ops') -%}
            {%- set columns = [] -%}
            {%- for column in source.columns.values() -%}
                {%- do columns.append(column.name ~ ' ' ~ column_type(column.data_type)) -%}
            {%- endfor -%}
            {%- do statements.append('create schema if not exists ' ~ source.schema) -%}
            {%- do statements.extend(create_empty_table(
                source.schema ~ '.' ~ source.name, columns,
                replace=source.source_name == 'scoring'
            )) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ hook_statements(statements) }}
{% endmacro %}

{#- The statements creating an empty table of `columns` ("name type" each); `replace`:
    instead of one that exists. -#}
{% macro create_empty_table(name, columns, replace) -%}
    {{ return(adapter.dispatch('create_empty_table', 'movierec')(name, columns, replace)) }}
{%- endmacro %}

{% macro default__create_empty_table(name, columns, replace) -%}
    {{ return([
        ('create or replace table ' if replace else 'create table if not exists ')
        ~ name ~ ' (' ~ columns | join(', ') ~ ')'
    ]) }}
{%- endmacro %}

{% macro spark__create_empty_table(name, columns, replace) -%}
    {%- set create = 'create table if not exists ' ~ name
        ~ ' (' ~ columns | join(', ') ~ ') using parquet' -%}
    {{ return((['drop table if exists ' ~ name] if replace else []) + [create]) }}
{%- endmacro %}

{#-
    A hook's statements: DuckDB runs them as the hook's SQL, one script. Spark runs one
    statement per call, so they run here, one by one, when the hook runs (not when a
    command such as `dbt docs generate` only renders it), and the hook's SQL is empty.
-#}
{% macro hook_statements(statements) -%}
    {{ return(adapter.dispatch('hook_statements', 'movierec')(statements)) }}
{%- endmacro %}

{% macro default__hook_statements(statements) -%}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}

{% macro spark__hook_statements(statements) -%}
    {%- if flags.WHICH in ('build', 'run', 'test', 'seed', 'snapshot') -%}
        {%- for statement in statements -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
