{#-
    numeric_columns(model_name)

    The numeric columns of a model of this project (the package of the calling
    model, also when installed in a host project) with an enforced contract, read
    from its declared columns (data_type) in the project graph: no query of
    the warehouse, so the SQL compiles the same on an empty one.
-#}
{% macro numeric_columns(model_name) %}
    {%- set numeric_types = ['integer', 'int', 'bigint', 'smallint', 'tinyint', 'hugeint', 'double',
        'float', 'real', 'decimal', 'numeric'] -%}
    {%- set names = [] -%}
    {#- the graph is only there once dbt executes; parsing needs no names -#}
    {%- set nodes = graph.nodes.values() if execute else [] -%}
    {%- for node in nodes
        if node.resource_type == 'model' and node.name == model_name
        and node.package_name == model.package_name -%}
        {%- for column in node.columns.values() -%}
            {%- if ((column.data_type or '') | lower).split('(')[0] | trim in numeric_types -%}
                {%- do names.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}

{#-
    feature_values_long(relation, feature_names)

    The features of `relation` in long form, one row per customer and
    feature: customer_id, feature (the column name), feature_value (as a
    double, null kept). The one unpivot of the feature matrix, shared by the
    SQL scoring (score_customers) and the drift measure (feature_psi).
-#}
{% macro feature_values_long(relation, feature_names) %}
    {%- for feature in feature_names %}
        select
            customer_id,
            '{{ feature }}' as feature,
            cast({{ feature }} as double) as feature_value
        from {{ relation }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
{% endmacro %}
