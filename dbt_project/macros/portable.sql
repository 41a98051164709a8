{#-
    Small pieces of SQL whose spelling differs between DuckDB and Spark. Models call these
    instead of engine-specific syntax so the same models can later run on dbt-spark.
-#}

{#- A 64-bit float column type. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'movierec')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{#- One output row per element of an array column (use in a select list). -#}
{% macro explode_array(column) -%}
    {{ return(adapter.dispatch('explode_array', 'movierec')(column)) }}
{%- endmacro %}

{% macro default__explode_array(column) -%}
    explode({{ column }})
{%- endmacro %}

{% macro duckdb__explode_array(column) -%}
    unnest({{ column }})
{%- endmacro %}

{#- The element at a 1-based position of an array column. -#}
{% macro array_element(column, position) -%}
    {{ return(adapter.dispatch('array_element', 'movierec')(column, position)) }}
{%- endmacro %}

{% macro default__array_element(column, position) -%}
    element_at({{ column }}, {{ position }})
{%- endmacro %}

{% macro duckdb__array_element(column, position) -%}
    {{ column }}[{{ position }}]
{%- endmacro %}

{#- Number of elements of an array column. -#}
{% macro array_length(column) -%}
    {{ return(adapter.dispatch('array_length', 'movierec')(column)) }}
{%- endmacro %}

{% macro default__array_length(column) -%}
    size({{ column }})
{%- endmacro %}

{% macro duckdb__array_length(column) -%}
    len({{ column }})
{%- endmacro %}
