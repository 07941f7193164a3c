{#- sql_string_literal(value): `value` as a SQL string literal, single quotes doubled. -#}
{% macro sql_string_literal(value) %}
    {{- return("'" ~ (value | string | replace("'", "''")) ~ "'") -}}
{% endmacro %}
