{#-
    Fails for every row where `expression` is not true. Used as a column or model test:
        - movierec.expression_is_true:
            expression: "age_years >= 10"
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
