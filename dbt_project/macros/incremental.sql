{#-
    Incremental builds (docs/incremental.md).

    Before dbt runs, `movierec` lists in ops.landed_batches every landed file the build
    reads and flags the ones the published warehouse has not built (`is_new`). A nightly
    that may build incrementally starts from a copy of the published warehouse; otherwise
    (first build, erasure, changed project, a re-delivered row...) from an empty file, where
    `is_incremental()` is false and every model builds from all landed files.

    An incremental model recomputes whole partitions (a user, a film, a pair of films...)
    that the new viewings touch, from all viewings, and replaces them (`delete+insert` on
    the partition key), so its rows are exactly what a full build gives. movierec refreshes
    fully whenever new files would change anything else (a re-delivered viewing, user or
    film), so new files only ever add viewings.
-#}

{#- The landed files of `entity` this build reads for the first time. -#}
{% macro new_landed_files(entity) -%}
    select new_batches.landed_file
    from {{ source('ops', 'landed_batches') }} as new_batches
    where new_batches.entity = '{{ entity }}' and new_batches.is_new
{%- endmacro %}

{#- The viewings (core.fct_interactions rows) the new landed files add. Models calling it
    inside `is_incremental()` declare `-- depends_on:` both refs. -#}
{% macro new_viewings() -%}
    select new_facts.*
    from {{ ref('fct_interactions') }} as new_facts
    where new_facts.interaction_id in (
        select staged.interaction_id
        from {{ ref('stg_landing__interactions') }} as staged
        where staged.landed_file in ({{ new_landed_files('interactions') }})
    )
{%- endmacro %}
