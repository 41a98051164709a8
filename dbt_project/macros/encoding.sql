{#-
    How categorical attributes become model inputs. The vocabularies are project vars
    (`genres`, `segments`) so training and scoring encode through the same list.
-#}

{#- Column-name fragment for a genre: 'Sci-Fi' -> 'sci_fi'. -#}
{% macro genre_slug(genre) -%}
    {{ genre | lower | replace('-', '_') | replace(' ', '_') | replace("'", '') }}
{%- endmacro %}

{#- The user segment of an age in years (thresholds are project vars). -#}
{% macro age_segment(age_column) -%}
    case
        when {{ age_column }} < {{ var('segment_young_below_age') }} then 'young'
        when {{ age_column }} < {{ var('segment_adult_below_age') }} then 'adult'
        else 'senior'
    end
{%- endmacro %}

{#- 1.0 where a boolean expression holds, else 0.0 (NULL counts as false), as a double. -#}
{% macro as_flag(condition) -%}
    cast(case when {{ condition }} then 1 else 0 end as {{ type_double() }})
{%- endmacro %}
