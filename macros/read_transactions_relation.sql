{#-
    transactions_relation()

    The warehouse table or view named by the var `transactions_relation`
    (e.g. 'main.online_retail_lines' or 'sales.orders'), as a relation, or
    none when the var is unset; a mapping {ref: <model or seed>} or
    {source: [<source>, <table>]} names a node of the dbt project instead
    (transactions_node_relation), so that the staging depends on it (staging then reads the raw files of the var
    `raw_transactions`). Stops the build with a message that names the var
    when the relation does not exist.
-#}
{% macro transactions_relation() %}
    {%- set name = var('transactions_relation', none) -%}
    {%- if not name -%}
        {{ return(none) }}
    {%- elif name is mapping -%}
        {{ return(transactions_node_relation(name)) }}
    {%- endif -%}
    {%- set parts = (name | string).split('.') -%}
    {%- if parts | length > 3 or '' in parts -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var transactions_relation is " ~ tojson(name) ~ ": name a table or view as "
            ~ "table, schema.table or database.schema.table."
        ) }}
    {%- endif -%}
    {%- set identifier = parts[-1] -%}
    {%- set schema = parts[-2] if parts | length > 1 else target.schema -%}
    {#- Spark relations have no database -#}
    {%- set database = parts[-3] if parts | length > 2 else (target.database if target.database is defined else none) -%}
    {%- if not execute -%}
        {{ return(api.Relation.create(database=database, schema=schema, identifier=identifier)) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
    {%- if relation is none -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var transactions_relation is " ~ tojson(name) ~ ", which is no table or view in the "
            ~ "warehouse of target " ~ target.name ~ ". Create it (with the Online Retail columns, or map its "
            ~ "column names with the var transactions_columns), or unset the var to read the raw files "
            ~ "(var raw_transactions). The build stops here; the last publication stays as it is."
        ) }}
    {%- endif -%}
    {{ return(relation) }}
{% endmacro %}


{#-
    transactions_node_relation(spec)

    The relation of the dbt node that the var transactions_relation names as
    a mapping: {ref: name}, {ref: [package, name]} or {source: [source,
    table]}. Called while dbt parses the staging models, the ref or source
    makes them depend on that node: in a host project that installs this
    one as a package, its own order-lines model is built first and the
    lineage runs from it to the segments.
-#}
{% macro transactions_node_relation(spec) %}
    {%- set kind = spec.keys() | list -%}
    {%- set names = spec[kind[0]] if kind | length == 1 else none -%}
    {%- set names = [names] if names is string else names -%}
    {%- if kind == ['ref'] and names is sequence and names | length in [1, 2] -%}
        {{ return(ref(*names)) }}
    {%- elif kind == ['source'] and names is sequence and names | length == 2 -%}
        {{ return(source(*names)) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "The dbt var transactions_relation is " ~ tojson(spec) ~ ": name a table or view as "
        ~ "'schema.table', or a node of the dbt project as {ref: model_or_seed}, "
        ~ "{ref: [package, model]} or {source: [source_name, table_name]}."
    ) }}
{% endmacro %}


{#-
    transactions_relation_columns(relation)

    (Online Retail name, our name, the relation's column) for the eight
    columns: the var `transactions_columns` maps an Online Retail name
    (InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
    CustomerID, Country) to the relation's column name where they differ;
    unmapped names are looked up as they are, case-insensitively. Stops the
    build naming the columns the relation lacks.
-#}
{% macro transactions_relation_columns(relation) %}
    {%- set names = online_retail_column_names() -%}
    {%- set renames = var('transactions_columns', {}) or {} -%}
    {%- if renames is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var transactions_columns is " ~ tojson(renames) ~ ": give a mapping from Online Retail "
            ~ "column names to the table's, e.g. {InvoiceNo: order_id, CustomerID: customer}."
        ) }}
    {%- endif -%}
    {%- set unknown = [] -%}
    {%- for key in renames -%}
        {%- if key not in names -%}
            {%- do unknown.append(key) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if unknown -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var transactions_columns maps " ~ unknown | join(", ") ~ ", which is no Online Retail "
            ~ "column; its keys are " ~ names | join(", ") ~ "."
        ) }}
    {%- endif -%}
    {%- set present = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do present.update({column.name | lower: column}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set columns, missing = [], [] -%}
    {%- for raw_name, column_name in raw_transaction_columns() -%}
        {%- set wanted = (renames.get(names[loop.index0]) or names[loop.index0]) | string -%}
        {%- if execute and wanted | lower not in present -%}
            {%- do missing.append(names[loop.index0] ~ (' (mapped to ' ~ wanted ~ ')' if wanted != names[loop.index0] else '')) -%}
        {%- endif -%}
        {%- set found = present.get(wanted | lower) -%}
        {%- do columns.append({
            'name': names[loop.index0],
            'column_name': column_name,
            'source_column': found.name if found is not none else wanted,
            'data_type': (found.data_type if found is not none else '') | lower,
        }) -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "The table " ~ relation ~ " (var transactions_relation) lacks the column"
            ~ ("s " if missing | length > 1 else " ") ~ missing | join(", ") ~ "; it has "
            ~ present.keys() | list | sort | join(", ") ~ ". Map the names with --vars "
            ~ "'{transactions_columns: {InvoiceNo: your_column, ...}}'. The build stops here; the last "
            ~ "publication stays as it is."
        ) }}
    {%- endif -%}
    {{ return(columns) }}
{% endmacro %}


{#-
    read_transactions_relation(sample_lines=none)

    The rows of the transactions_relation with the columns of
    read_raw_transaction_lines, for the same typing and reject reasons
    (classify_raw_lines): `source_file` is the relation's name,
    `source_line_number` numbers the rows 1..n in the order of all eight
    columns (a table has no order of its own; rows that tie are equal in
    every field), `raw_line` is the row's values joined by commas, every
    field is text. A date or timestamp InvoiceDate is written
    'YYYY-MM-DD HH:MM:SS' (the first default raw_date_formats entry). Portable
    SQL: this is how the project reads its input on Spark.
-#}
{% macro read_transactions_relation(sample_lines=none) %}
    {%- set relation = transactions_relation() -%}
    {%- set columns = transactions_relation_columns(relation) -%}
    {%- set as_text = [] -%}
    {%- for column in columns -%}
        {%- set quoted = adapter.quote(column.source_column) -%}
        {%- if column.column_name == 'invoice_date' and (column.data_type.startswith('date') or column.data_type.startswith('timestamp')) -%}
            {%- do as_text.append(format_timestamp('cast(' ~ quoted ~ ' as timestamp)', '%Y-%m-%d %H:%M:%S')) -%}
        {%- else -%}
            {%- do as_text.append('cast(' ~ quoted ~ ' as ' ~ dbt.type_string() ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    with

    table_rows as (
        select
            {%- for column in columns %}
            {{ as_text[loop.index0] }} as {{ column.column_name }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ relation }}
    ),

    numbered_rows as (
        select
            {{ sql_string_literal(transactions_relation_name(relation)) }} as source_file,
            row_number() over (
                order by {% for column in columns %}{{ column.column_name }}{{ ", " if not loop.last }}{% endfor %}
            ) as source_line_number,
            concat_ws(
                ',',
                {%- for column in columns %}
                coalesce({{ column.column_name }}, ''){{ "," if not loop.last }}
                {%- endfor %}
            ) as raw_line,
            cast(null as {{ dbt.type_string() }}) as line_error,
            {%- for column in columns %}
            {{ column.column_name }}{{ "," if not loop.last }}
            {%- endfor %}
        from table_rows
    )

    select * from numbered_rows
    {%- if sample_lines is not none %}
        where source_line_number <= {{ sample_lines }}
    {%- endif %}
{% endmacro %}


{#-
    count_transactions_relation_rows()

    SQL: one row (source_file, lines_read, malformed_quoting_lines) for the
    transactions_relation, the survey of base_online_retail__raw_files when
    staging reads a table instead of files.
-#}
{% macro count_transactions_relation_rows() %}
    {%- set relation = transactions_relation() -%}
    select
        {{ sql_string_literal(transactions_relation_name(relation)) }} as source_file,
        count(*) as lines_read,
        cast(0 as bigint) as malformed_quoting_lines
    from {{ relation }}
{% endmacro %}


{#- transactions_relation_name(relation): the relation as `schema.table`, the
    `source_file` of its rows. -#}
{% macro transactions_relation_name(relation) %}
    {{- return(relation.schema ~ '.' ~ relation.identifier) -}}
{% endmacro %}
