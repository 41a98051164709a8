{#-
    Point-in-time history as validity intervals.

    `events` has one row per partition key and distinct `event_at`, with the counts of
    `interactions` and `likes` at that moment. The result has one row per such event: the
    running totals including it, valid for any request time t with
    valid_after < t <= valid_until (valid_until NULL: up to now). A request at t joins the
    one interval that contains t and so sees exactly the events strictly before t; a
    viewing never sees itself or anything later. Works as a plain equi-join plus a range
    filter on any engine (no ASOF JOIN needed).
-#}
{% macro history_intervals(events, partition_by) -%}
    {%- set partition = partition_by | join(', ') -%}
    select
        {{ partition }},
        event_at as valid_after,
        lead(event_at) over (
            partition by {{ partition }} order by event_at
        ) as valid_until,
        sum(interactions) over (
            partition by {{ partition }}
            order by event_at
            rows between unbounded preceding and current row
        ) as prior_interactions,
        sum(likes) over (
            partition by {{ partition }}
            order by event_at
            rows between unbounded preceding and current row
        ) as prior_likes
    from {{ events }}
{%- endmacro %}

{#- The join condition picking the interval of `history` that holds at `request_time`. -#}
{% macro interval_holds(history, request_time) -%}
    {{ history }}.valid_after < {{ request_time }}
    and ({{ history }}.valid_until is null or {{ request_time }} <= {{ history }}.valid_until)
{%- endmacro %}

{#- Laplace-smoothed like rate: 0.5 with no history, tending to likes / views. -#}
{% macro smoothed_rate(likes, views) -%}
    (cast(coalesce({{ likes }}, 0) as {{ type_double() }}) + 1)
    / (cast(coalesce({{ views }}, 0) as {{ type_double() }}) + 2)
{%- endmacro %}
