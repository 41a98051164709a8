{#-
    The rows of a landing source that are not quarantined: `movierec` lists rows breaking
    the raw contract in ops.quarantined_rows (when a run quarantines instead of stopping),
    by landed file and row number, and every staging model reads its source through here.
-#}
{% macro landed_rows(table_name) -%}
    select landed.*
    from {{ source('landing', table_name) }} as landed
    where not exists (
        select 1
        from {{ source('ops', 'quarantined_rows') }} as quarantined
        where
            quarantined.landed_file = landed.filename
            and quarantined.file_row_number = landed.file_row_number
    )
{%- endmacro %}
