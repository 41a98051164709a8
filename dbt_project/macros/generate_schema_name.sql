{#-
    Use a model's custom schema (its folder's `+schema`) as the schema name itself, not
    `<target schema>_<custom>`, so the warehouse reads `staging`, `core`, `ml`.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
