{#-
    dbt's `where` config for data tests, with one placeholder: `__newest_run__` stands for
    the newest recommendation run of the tested relation (by generated_at). Runs are
    appended whole, each tested the night it lands, so tests on the growing history
    (ml_recommendations) check the newest run only and cost what a night adds, not what
    all nights hold.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set newest_run -%}
            (select max_by(run_id, generated_at) from {{ relation }})
        {%- endset -%}
        {%- set where = where | replace('__newest_run__', newest_run) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
