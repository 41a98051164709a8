{#-
    The landing sources as each engine reads them. DuckDB reads the landed Parquet files
    through the sources' `external_location` (read_parquet with `filename` and
    `file_row_number`) and needs nothing here. Spark registers each landing source as a view
    over its folder of landed files, with the same two columns: the file's path as
    `movierec` names it (relative to the data folder) and the row's 0-based position in it.
    Runs as an on-run-start hook.
-#}
{% macro register_landing_sources() %}
    {{ return(adapter.dispatch('register_landing_sources', 'movierec')()) }}
{% endmacro %}

{% macro default__register_landing_sources() %}{% endmacro %}

{% macro spark__register_landing_sources() %}
    {%- set statements = [] -%}
    {%- if execute -%}
        {%- set raw_dir = env_var('MOVIEREC_RAW_DIR', 'data/raw') -%}
        {%- for source in graph.sources.values() if source.source_name == 'landing' -%}
            {%- set folder = raw_dir ~ '/' ~ source.name -%}
            {%- do statements.append('create schema if not exists ' ~ source.schema) -%}
            {%- do statements.append(
                'create or replace view ' ~ source.schema ~ '.' ~ source.identifier
                ~ " as select *, concat('" ~ folder ~ "/', _metadata.file_name) as filename,"
                ~ ' _metadata.row_index as file_row_number'
                ~ ' from parquet.`' ~ folder ~ '`'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ hook_statements(statements) }}
{% endmacro %}
