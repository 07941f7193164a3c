{#- Numbers on DuckDB and Spark. -#}

{#- is_finite(number_expression): true for a number that is neither infinite nor NaN; null for null. -#}
{% macro is_finite(number_expression) -%}
    {{ return(adapter.dispatch('is_finite', 'customer_segmentation')(number_expression)) }}
{%- endmacro %}

{% macro duckdb__is_finite(number_expression) -%}
    isfinite({{ number_expression }})
{%- endmacro %}

{% macro spark__is_finite(number_expression) -%}
    {#- Spark sorts NaN above +Infinity, so this is false for NaN too -#}
    (abs(cast({{ number_expression }} as double)) < cast('Infinity' as double))
{%- endmacro %}
