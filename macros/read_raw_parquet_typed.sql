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
        or not raw_location_is_parquet(source_relation.render()) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set types = raw_parquet_types(raw_files_location(source_relation, files)) -%}
    {#- DuckDB's type names, and Spark's (INT) -#}
    {%- set numeric = ['TINYINT', 'SMALLINT', 'INTEGER', 'INT', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'FLOAT', 'DOUBLE'] -%}
    {%- set is_number = [] -%}
    {%- for column_name in ['quantity', 'unitprice'] -%}
        {%- set column_type = types.get(column_name, '') -%}
        {%- do is_number.append(column_type in numeric or column_type.startswith('DECIMAL')) -%}
    {%- endfor -%}
    {%- set date_type = types.get('invoicedate', '') -%}
    {{ return(is_number[0] and is_number[1] and (date_type == 'DATE' or date_type.startswith('TIMESTAMP'))) }}
{% endmacro %}


{#- The column types of Parquet files read by name: lower-case column name
    -> upper-case type name, from one query of their footers. -#}
{% macro raw_parquet_types(location) %}
    {%- set types = {} -%}
    {%- for row in run_query(raw_parquet_column_types(location)).rows -%}
        {%- do types.update({row[0] | lower: row[1] | upper}) -%}
    {%- endfor -%}
    {{ return(types) }}
{% endmacro %}


{#- SQL: (column_name, column_type) of Parquet files read by name. -#}
{% macro raw_parquet_column_types(location) %}
    {{- return(adapter.dispatch('raw_parquet_column_types')(location)) -}}
{% endmacro %}

{#- Spark: the schema of the source's Parquet glob (Spark reads a list of
    files as the glob filtered to them, spark__raw_parquet_file_rows) -#}
{% macro spark__raw_parquet_column_types(location) %}
    describe query select * from parquet.`{{ source('online_retail', 'transaction_files').render().strip("'") }}`
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

{% macro spark__read_raw_parquet_typed(location, required_columns) %}
    select
        raw_parquet_source_file as source_file,
        raw_parquet_row_index + 1 as source_line_number,
        cast(null as string) as raw_line,
        cast(null as string) as line_error,
        cast(invoiceno as string) as invoice_no,
        cast(stockcode as string) as stock_code,
        cast(description as string) as description,
        cast(quantity as double) as quantity,
        {{ raw_timestamp_to_the_second('invoicedate') }} as invoice_date,
        cast(unitprice as double) as unit_price,
        case when lower(cast(customerid as string)) = 'nan' then null else cast(customerid as string) end as customer_id,
        cast(country as string) as country
    from {{ spark__raw_parquet_file_rows(location) }} as parquet_rows
{% endmacro %}


{#- Spark: the rows of the Parquet files `location` (a quoted glob, or a
    list of files: the source's glob is then read and filtered to them, as
    the text reader does) as a subquery, with every column of the files plus
    raw_parquet_source_file (the path as the load records it) and
    raw_parquet_row_index (the row's position in its file from 0, Spark's
    _metadata.row_index, DuckDB's file_row_number). Columns are found by name
    in any case (spark.sql.caseSensitive is off); the schema is the one
    Spark reads from the files' footers. -#}
{% macro spark__raw_parquet_file_rows(location) %}
    {%- set columns -%}
        *,
        {{ raw_file_path('_metadata.file_path') }} as raw_parquet_source_file,
        _metadata.row_index as raw_parquet_row_index
    {%- endset -%}
    {{ spark__raw_files_scan('parquet', location, columns, 'raw_parquet_source_file') }}
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
        {%- if raw_parquet_types(location).get('customerid') in ('DOUBLE', 'FLOAT') %}
        {#- ids stored as floats (pandas' float64, NaN for none): a whole
            number is printed as an integer, 17850.0 as '17850', which
            raw_customer_id_or_null makes of '17850.0' anyway; printing
            integers instead of doubles took the Parquet lines' write at 10.8M
            from 6.5 to 6.0 s (BENCHMARKS.md) -#}
        case
            when isnan(customerid) then null
            when customerid >= 1 and customerid < 1e15 and customerid = trunc(customerid)
                then cast(cast(customerid as bigint) as varchar)
            else cast(customerid as varchar)
        end as customer_id,
        {%- else %}
        case when lower(cast(customerid as varchar)) = 'nan' then null else cast(customerid as varchar) end as customer_id,
        {%- endif %}
        cast(country as varchar) as country
    from read_parquet({{ location }}, filename = true, file_row_number = true, union_by_name = true)
{% endmacro %}


{#- SQL: a typed date or timestamp column as a TIMESTAMP to the second, in
    UTC when it has a time zone (as the text path prints it). -#}
{% macro raw_timestamp_to_the_second(column) %}
    {{- return(adapter.dispatch('raw_timestamp_to_the_second')(column)) -}}
{% endmacro %}

{#- Spark: a TIMESTAMP is an instant, read as UTC wall-clock time in the
    spark target's UTC session; a TIMESTAMP_NTZ or DATE is its wall clock -#}
{% macro spark__raw_timestamp_to_the_second(column) %}
    {{- return("date_trunc('SECOND', try_cast(" ~ column ~ " as timestamp))") -}}
{% endmacro %}

{% macro duckdb__raw_timestamp_to_the_second(column) %}
    {{- return(
        "date_trunc('second', case when typeof(" ~ column ~ ") like 'TIMESTAMP WITH TIME ZONE' "
        ~ "then cast(timezone('UTC', try_cast(" ~ column ~ " as timestamptz)) as timestamp) "
        ~ "else try_cast(" ~ column ~ " as timestamp) end)"
    ) -}}
{% endmacro %}
