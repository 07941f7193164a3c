{#-
    numeric_columns(relation)

    The names of the relation's numeric columns, read from the warehouse when
    the SQL runs (an empty list while dbt only parses).
-#}
{% macro numeric_columns(relation) %}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.is_numeric() or column.is_float() or column.is_integer() -%}
                {%- do names.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{% endmacro %}
