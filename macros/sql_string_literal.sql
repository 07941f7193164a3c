{#- sql_string_literal(value): `value` as a SQL string literal of the target's engine. -#}
{% macro sql_string_literal(value) %}
    {{- return(adapter.dispatch('sql_string_literal', 'customer_segmentation')(value)) -}}
{% endmacro %}

{#- standard SQL (DuckDB): single quotes doubled, backslashes plain text -#}
{% macro default__sql_string_literal(value) %}
    {{- return("'" ~ (value | string | replace("'", "''")) ~ "'") -}}
{% endmacro %}

{#- Spark reads a backslash in a literal as an escape: escape it and the quote -#}
{% macro spark__sql_string_literal(value) %}
    {{- return("'" ~ (value | string | replace('\\', '\\\\') | replace("'", "\\'")) ~ "'") -}}
{% endmacro %}
