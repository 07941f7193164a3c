{#- Aggregates on DuckDB and Spark. -#}

{#- string_agg_ordered(text_expression, separator, order_by_expression): the
    group's non-null texts joined by the plain-text separator, in ascending
    order of `order_by_expression` (not null; ties in any order). dbt.listagg
    ignores the order on Spark. -#}
{% macro string_agg_ordered(text_expression, separator, order_by_expression) -%}
    {{ return(adapter.dispatch('string_agg_ordered', 'customer_segmentation')(text_expression, separator, order_by_expression)) }}
{%- endmacro %}

{% macro duckdb__string_agg_ordered(text_expression, separator, order_by_expression) -%}
    string_agg({{ text_expression }}, {{ sql_string_literal(separator) }} order by {{ order_by_expression }})
{%- endmacro %}

{% macro spark__string_agg_ordered(text_expression, separator, order_by_expression) -%}
    array_join(
        transform(
            array_sort(collect_list(named_struct('sort_key', {{ order_by_expression }}, 'text', {{ text_expression }}))),
            agg_item__ -> agg_item__.text
        ),
        {{ sql_string_literal(separator) }}
    )
{%- endmacro %}


{#- percentiles_cont(number_expression, fractions): the group's percentiles at
    `fractions` (a Jinja list of numbers in [0, 1]), linearly interpolated, as
    an array of doubles. -#}
{% macro percentiles_cont(number_expression, fractions) -%}
    {{ return(adapter.dispatch('percentiles_cont', 'customer_segmentation')(number_expression, fractions)) }}
{%- endmacro %}

{% macro duckdb__percentiles_cont(number_expression, fractions) -%}
    quantile_cont(cast({{ number_expression }} as double), [{{ fractions | join(', ') }}])
{%- endmacro %}

{% macro spark__percentiles_cont(number_expression, fractions) -%}
    percentile(cast({{ number_expression }} as double), array({{ fractions | join(', ') }}))
{%- endmacro %}


{#- repeated_values(relation, column): a query of the non-null values of
    `column` that occur in more than one row of `relation` (a table or a
    CTE's name), each once, in a column of the same name. DuckDB sorts the
    values and compares neighbours: over 10.8M mostly distinct hashes, half
    the time of a grouping, which keeps a hash table entry for each. Spark
    groups: a sort of all rows with no partition gathers them in one task. -#}
{% macro repeated_values(relation, column) -%}
    {{ return(adapter.dispatch('repeated_values', 'customer_segmentation')(relation, column)) }}
{%- endmacro %}

{% macro duckdb__repeated_values(relation, column) -%}
    select {{ column }}
    from (
        select
            {{ column }},
            lag({{ column }}) over (order by {{ column }}) as previous_value__
        from {{ relation }}
    ) as sorted_values__
    where {{ column }} = previous_value__
    group by {{ column }}
{%- endmacro %}

{% macro spark__repeated_values(relation, column) -%}
    select {{ column }}
    from {{ relation }}
    where {{ column }} is not null
    group by {{ column }}
    having count(*) > 1
{%- endmacro %}
