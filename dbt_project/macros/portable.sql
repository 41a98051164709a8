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

{#-
    The sum of a floating-point expression, the same to the last bit however the engine
    splits and orders its rows (threads, spilling): each term is rounded to 12 decimal places
    (terms must lie below 10^6 in size), added exactly as a decimal, and the total returned as
    a double. A plain float sum depends on the order of its terms, and retrieval ranks by
    these sums. `over` (a window clause, without the word `over`) makes it a window sum.
-#}
{% macro exact_sum(expression, over=none) -%}
    cast(
        sum(cast({{ expression }} as decimal(18, 12))){% if over %} over ({{ over }}){% endif %}
        as {{ type_double() }}
    )
{%- endmacro %}

{#- A source column's `data_type` (DuckDB's spelling: varchar, bigint, varchar[]...) as the
    engine spells it. -#}
{% macro column_type(data_type) -%}
    {{ return(adapter.dispatch('column_type', 'movierec')(data_type)) }}
{%- endmacro %}

{% macro default__column_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{% macro spark__column_type(data_type) -%}
    {%- set spelled = data_type | trim | lower -%}
    {%- if spelled.endswith('[]') -%}
        {{ return('array<' ~ spark__column_type(spelled[:-2]) ~ '>') }}
    {%- endif -%}
    {{ return({'varchar': 'string', 'text': 'string', 'integer': 'int'}.get(spelled, spelled)) }}
{%- endmacro %}

{#-
    Between a CTE's `as` and its body: read the CTE where it is used instead of computing it
    once. DuckDB materialises a CTE read more than once, whole: for an import CTE of a
    15M-row history at 100x that is every row, in memory, in every query (every chunk of
    scoring), while each read on its own gets the filters of its join. Spark inlines CTEs.
-#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'movierec')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}
