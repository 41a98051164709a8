{#-
    Create the tables the Python steps write (sources `ml_outputs` and `scoring`) if they
    do not exist yet, from the columns and data types of their source definitions. Runs as
    an on-run-start hook, so any dbt invocation on a fresh warehouse can read them.
-#}
{% macro create_python_output_tables() %}
    {%- if execute -%}
        {%- for source in graph.sources.values()
            if source.source_name in ('ml_outputs', 'scoring') -%}
            {%- set columns = [] -%}
            {%- for column in source.columns.values() -%}
                {%- do columns.append(column.name ~ ' ' ~ column.data_type) -%}
            {%- endfor %}
create schema if not exists {{ source.schema }};
create table if not exists {{ source.schema }}.{{ source.name }} ({{ columns | join(', ') }});
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
