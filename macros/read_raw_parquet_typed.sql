{#-
    raw_parquet_is_typed(source_relation, files)

    True when the Parquet `files` (all of them, read by name) store
    Quantity and UnitPrice as numbers and InvoiceDate as a date or
    timestamp: the load is then read with those types
    (read_raw_parquet_typed) and not printed as text and parsed again.
    False for CSV, for text columns, and while dbt only parses.
-#}
{% macro raw_parquet_is_typed(source_relation, files) %}
    {%- if not (execute and flags.WHICH in ('run', 'build')) or files | length == 0
        or not source_relation.render().strip("'").lower().endswith('.parquet') -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set types = {} -%}
    {%- for row in run_query(raw_parquet_column_types(raw_files_location(source_relation, files))).rows -%}
        {%- do types.update({row[0] | lower: row[1] | upper}) -%}
    {%- endfor -%}
    {%- set numeric = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'FLOAT', 'DOUBLE'] -%}
    {%- set is_number = [] -%}
    {%- for column_name in ['quantity', 'unitprice'] -%}
        {%- set column_type = types.get(column_name, '') -%}
        {%- do is_number.append(column_type in numeric or column_type.startswith('DECIMAL')) -%}
    {%- endfor -%}
    {%- set date_type = types.get('invoicedate', '') -%}
    {{ return(is_number[0] and is_number[1] and (date_type == 'DATE' or date_type.startswith('TIMESTAMP'))) }}
{% endmacro %}


{#- SQL: (column_name, column_type) of Parquet files read by name. -#}
{% macro raw_parquet_column_types(location) %}
    {{- return(adapter.dispatch('raw_parquet_column_types')(location)) -}}
{% endmacro %}

{#- Spark: the raw files are not read there yet (raw_files_not_on_spark_yet) -#}
{% macro spark__raw_parquet_column_types(location) %}
    {{- return(raw_files_not_on_spark_yet()) -}}
{% endmacro %}

{% macro duckdb__raw_parquet_column_types(location) %}
    select column_name, column_type
    from (describe select * from read_parquet({{ location }}, union_by_name = true))
{% endmacro %}


{#-
    read_raw_parquet_typed(location, required_columns)

    Parquet rows with Quantity, UnitPrice and InvoiceDate in their own types
    (numbers as DOUBLE, the date as a TIMESTAMP to the second, a time zone
    converted to UTC), the other columns as text: the columns of
    read_raw_transaction_lines, for classify_raw_lines(typed=true).
-#}
{% macro read_raw_parquet_typed(location, required_columns) %}
    {{- return(adapter.dispatch('read_raw_parquet_typed')(location, required_columns)) -}}
{% endmacro %}

{#- Spark: the raw files are not read there yet (raw_files_not_on_spark_yet) -#}
{% macro spark__read_raw_parquet_typed(location, required_columns) %}
    {{- return(raw_files_not_on_spark_yet()) -}}
{% endmacro %}

{% macro duckdb__read_raw_parquet_typed(location, required_columns) %}
    select
        filename as source_file,
        file_row_number + 1 as source_line_number,
        cast(null as varchar) as raw_line,
        cast(null as varchar) as line_error,
        cast(invoiceno as varchar) as invoice_no,
        cast(stockcode as varchar) as stock_code,
        cast(description as varchar) as description,
        cast(quantity as double) as quantity,
        {{ raw_timestamp_to_the_second('invoicedate') }} as invoice_date,
        cast(unitprice as double) as unit_price,
        case when lower(cast(customerid as varchar)) = 'nan' then null else cast(customerid as varchar) end as customer_id,
        cast(country as varchar) as country
    from read_parquet({{ location }}, filename = true, file_row_number = true, union_by_name = true)
{% endmacro %}


{#- SQL: a typed date or timestamp column as a TIMESTAMP to the second, in
    UTC when it has a time zone (as the text path prints it). -#}
{% macro raw_timestamp_to_the_second(column) %}
    {{- return(adapter.dispatch('raw_timestamp_to_the_second')(column)) -}}
{% endmacro %}

{#- Spark: the raw files are not read there yet (raw_files_not_on_spark_yet) -#}
{% macro spark__raw_timestamp_to_the_second(column) %}
    {{- return(raw_files_not_on_spark_yet()) -}}
{% endmacro %}

{% macro duckdb__raw_timestamp_to_the_second(column) %}
    {{- return(
        "date_trunc('second', case when typeof(" ~ column ~ ") like 'TIMESTAMP WITH TIME ZONE' "
        ~ "then cast(timezone('UTC', try_cast(" ~ column ~ " as timestamptz)) as timestamp) "
        ~ "else try_cast(" ~ column ~ " as timestamp) end)"
    ) -}}
{% endmacro %}
