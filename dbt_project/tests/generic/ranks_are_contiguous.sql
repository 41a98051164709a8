{#-
    Fails for each partition whose ranks are not exactly 1, 2, ..., n (no gap, no repeat).
        - ranks_are_contiguous:
            arguments:
              partition_by: [run_id, user_id]
-#}
{% test ranks_are_contiguous(model, column_name, partition_by) %}

select
    {{ partition_by | join(', ') }},
    min({{ column_name }}) as lowest_rank,
    max({{ column_name }}) as highest_rank,
    count(*) as ranked_rows,
    count(distinct {{ column_name }}) as distinct_ranks
from {{ model }}
group by {{ partition_by | join(', ') }}
having
    min({{ column_name }}) != 1
    or max({{ column_name }}) != count(*)
    or count(distinct {{ column_name }}) != count(*)

{% endtest %}
