{#-
    rfm_score(column_name, higher_is_better=true)

    Scores a column from 1 to 5 by its percent rank among all rows:
    1 + floor(5 * percent_rank), capped at 5. Equal values always get the
    same score (unlike ntile, which splits ties arbitrarily). For recency,
    where fewer days is better, pass higher_is_better=false.
-#}
{% macro rfm_score(column_name, higher_is_better=true) %}
    cast(least(
        5,
        1 + floor(
            5 * percent_rank() over (
                order by {{ column_name }} {{ 'asc' if higher_is_better else 'desc' }}
            )
        )
    ) as integer)
{% endmacro %}
