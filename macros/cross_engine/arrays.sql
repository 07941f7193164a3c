{#-
    Arrays (DuckDB lists) on DuckDB and Spark. Positions count from 1 on both
    engines, as in DuckDB (Spark's arr[i] counts from 0: never use it).
-#}

{#- array_of(expressions): an array of the given SQL expressions (a Jinja list). -#}
{% macro array_of(expressions) -%}
    {{ return(adapter.dispatch('array_of', 'customer_segmentation')(expressions)) }}
{%- endmacro %}

{% macro duckdb__array_of(expressions) -%}
    [{{ expressions | join(', ') }}]
{%- endmacro %}

{% macro spark__array_of(expressions) -%}
    array({{ expressions | join(', ') }})
{%- endmacro %}


{#- array_length(array_expression): the number of elements; null for a null array. -#}
{% macro array_length(array_expression) -%}
    {{ return(adapter.dispatch('array_length', 'customer_segmentation')(array_expression)) }}
{%- endmacro %}

{% macro duckdb__array_length(array_expression) -%}
    len({{ array_expression }})
{%- endmacro %}

{% macro spark__array_length(array_expression) -%}
    array_size({{ array_expression }})
{%- endmacro %}


{#- array_element(array_expression, position): the element at `position`
    (from 1); null when the array is shorter. -#}
{% macro array_element(array_expression, position) -%}
    {{ return(adapter.dispatch('array_element', 'customer_segmentation')(array_expression, position)) }}
{%- endmacro %}

{% macro duckdb__array_element(array_expression, position) -%}
    ({{ array_expression }})[{{ position }}]
{%- endmacro %}

{% macro spark__array_element(array_expression, position) -%}
    try_element_at({{ array_expression }}, {{ position }})
{%- endmacro %}


{#- array_position_or_null(array_expression, value_expression): the position
    (from 1) of the first element equal to the value; null when there is none. -#}
{% macro array_position_or_null(array_expression, value_expression) -%}
    {{ return(adapter.dispatch('array_position_or_null', 'customer_segmentation')(array_expression, value_expression)) }}
{%- endmacro %}

{% macro duckdb__array_position_or_null(array_expression, value_expression) -%}
    list_position({{ array_expression }}, {{ value_expression }})
{%- endmacro %}

{% macro spark__array_position_or_null(array_expression, value_expression) -%}
    nullif(array_position({{ array_expression }}, {{ value_expression }}), 0)
{%- endmacro %}


{#- count_array_elements_at_most(array_expression, value_expression): how many
    elements are <= the value (for sorted bin edges: the bin the value falls in). -#}
{% macro count_array_elements_at_most(array_expression, value_expression) -%}
    {{ return(adapter.dispatch('count_array_elements_at_most', 'customer_segmentation')(array_expression, value_expression)) }}
{%- endmacro %}

{% macro duckdb__count_array_elements_at_most(array_expression, value_expression) -%}
    len(list_filter({{ array_expression }}, lambda array_element__: array_element__ <= {{ value_expression }}))
{%- endmacro %}

{% macro spark__count_array_elements_at_most(array_expression, value_expression) -%}
    size(filter({{ array_expression }}, array_element__ -> array_element__ <= {{ value_expression }}))
{%- endmacro %}


{#- join_array(array_expression, separator): the text elements joined by the
    plain-text separator, null elements left out. -#}
{% macro join_array(array_expression, separator) -%}
    {{ return(adapter.dispatch('join_array', 'customer_segmentation')(array_expression, separator)) }}
{%- endmacro %}

{% macro duckdb__join_array(array_expression, separator) -%}
    array_to_string({{ array_expression }}, {{ sql_string_literal(separator) }})
{%- endmacro %}

{% macro spark__join_array(array_expression, separator) -%}
    array_join({{ array_expression }}, {{ sql_string_literal(separator) }})
{%- endmacro %}


{#- explode_array(array_expression): in a select list, one row per element
    (none for a null or empty array). Name it with `as`. -#}
{% macro explode_array(array_expression) -%}
    {{ return(adapter.dispatch('explode_array', 'customer_segmentation')(array_expression)) }}
{%- endmacro %}

{% macro duckdb__explode_array(array_expression) -%}
    unnest({{ array_expression }})
{%- endmacro %}

{% macro spark__explode_array(array_expression) -%}
    explode({{ array_expression }})
{%- endmacro %}


{#- rows_of_struct_array(array_expression): in a select list, one row per
    struct of an array of structs, one column per struct field (fields that
    are arrays stay arrays). -#}
{% macro rows_of_struct_array(array_expression) -%}
    {{ return(adapter.dispatch('rows_of_struct_array', 'customer_segmentation')(array_expression)) }}
{%- endmacro %}

{% macro duckdb__rows_of_struct_array(array_expression) -%}
    unnest({{ array_expression }}, recursive := true)
{%- endmacro %}

{% macro spark__rows_of_struct_array(array_expression) -%}
    inline({{ array_expression }})
{%- endmacro %}


{#- transform_array(array_expression, element_name, element_expression): the
    array with every element replaced by `element_expression`, which names
    the element `element_name` (a lambda). -#}
{% macro transform_array(array_expression, element_name, element_expression) -%}
    {{ return(adapter.dispatch('transform_array', 'customer_segmentation')(array_expression, element_name, element_expression)) }}
{%- endmacro %}

{% macro duckdb__transform_array(array_expression, element_name, element_expression) -%}
    list_transform({{ array_expression }}, lambda {{ element_name }}: {{ element_expression }})
{%- endmacro %}

{% macro spark__transform_array(array_expression, element_name, element_expression) -%}
    transform({{ array_expression }}, {{ element_name }} -> {{ element_expression }})
{%- endmacro %}


{#- filter_array(array_expression, element_name, condition): the elements
    for which `condition` (naming the element `element_name`) is true, in order. -#}
{% macro filter_array(array_expression, element_name, condition) -%}
    {{ return(adapter.dispatch('filter_array', 'customer_segmentation')(array_expression, element_name, condition)) }}
{%- endmacro %}

{% macro duckdb__filter_array(array_expression, element_name, condition) -%}
    list_filter({{ array_expression }}, lambda {{ element_name }}: {{ condition }})
{%- endmacro %}

{% macro spark__filter_array(array_expression, element_name, condition) -%}
    filter({{ array_expression }}, {{ element_name }} -> {{ condition }})
{%- endmacro %}


{#- array_contains_value(array_expression, value_expression): true when an
    element equals the value. -#}
{% macro array_contains_value(array_expression, value_expression) -%}
    {{ return(adapter.dispatch('array_contains_value', 'customer_segmentation')(array_expression, value_expression)) }}
{%- endmacro %}

{% macro duckdb__array_contains_value(array_expression, value_expression) -%}
    list_contains({{ array_expression }}, {{ value_expression }})
{%- endmacro %}

{% macro spark__array_contains_value(array_expression, value_expression) -%}
    array_contains({{ array_expression }}, {{ value_expression }})
{%- endmacro %}
