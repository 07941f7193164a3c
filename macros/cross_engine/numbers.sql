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


{#- grouping_hash(expressions): a 64-bit hash of the values of the SQL
    `expressions` (a text, comma-separated), nulls included, to group or
    join rows on a short key before comparing them exactly. The values
    differ between the engines: never store or compare them across engines
    (use dbt.hash for that). -#}
{% macro grouping_hash(expressions) -%}
    {{ return(adapter.dispatch('grouping_hash', 'customer_segmentation')(expressions)) }}
{%- endmacro %}

{% macro duckdb__grouping_hash(expressions) -%}
    hash({{ expressions }})
{%- endmacro %}

{% macro spark__grouping_hash(expressions) -%}
    xxhash64({{ expressions }})
{%- endmacro %}
