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
