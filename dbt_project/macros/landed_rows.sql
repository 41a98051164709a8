{#-
    The rows of a landing source that are not quarantined: `movierec` lists rows breaking
    the raw contract in ops.quarantined_rows (when a run quarantines instead of stopping),
    by landed file and row number, and every staging model reads its source through here.
    `only_new`: only the files this build reads for the first time (incremental models).
-#}
{% macro landed_rows(table_name, only_new=false) -%}
    select landed.*
    from {{ source('landing', table_name) }} as landed
    where
        not exists (
            select 1
            from {{ source('ops', 'quarantined_rows') }} as quarantined
            where
                quarantined.landed_file = landed.filename
                and quarantined.file_row_number = landed.file_row_number
        )
        {%- if only_new %}
        and landed.filename in ({{ new_landed_files(table_name) }})
        {%- endif %}
{%- endmacro %}
