{#-
    check_raw_transactions_location(location, required_columns, read_location=none)

    Stops the build with a message a person can act on when the dbt var
    `raw_transactions` matches no file, or when a Parquet file lacks one of
    the `required_columns`. (Cut-off .gz files and undecodable text are
    found by survey_raw_files, in its read; CSV headers by
    read_raw_transaction_lines, which names the file.) `read_location`
    narrows the column check to the files this run reads (a list literal),
    when not the whole glob.
-#}
{% macro check_raw_transactions_location(location, required_columns, read_location=none) %}
    {%- set read_location = location if read_location is none else read_location -%}
    {%- if count_files_matching(location) == 0 -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var raw_transactions is " ~ location ~ ", which matches no file "
            ~ "(relative paths start at the folder you run dbt from). Generate the default data with "
            ~ "`make data`, or point the var at your export, e.g. "
            ~ "dbt build --vars '{raw_transactions: \"path/to/*.csv.gz\"}'. "
            ~ "The build stops here; the last publication stays as it is."
        ) }}
    {%- endif -%}
    {%- if location.strip("'").lower().endswith('.parquet') and required_columns | length > 0 -%}
        {%- do check_raw_parquet_columns(read_location, required_columns) -%}
    {%- endif -%}
{% endmacro %}


{#- count_files_matching(location): how many files the glob `location` (SQL) matches. -#}
{% macro count_files_matching(location) %}
    {{- return(adapter.dispatch('count_files_matching')(location)) -}}
{% endmacro %}

{% macro duckdb__count_files_matching(location) %}
    {{- return(run_query("select count(*) from glob(" ~ location ~ ")").columns[0].values()[0]) -}}
{% endmacro %}

{#- Spark: the spark_local adapter counts a local glob (Spark's listing stops
    with PATH_NOT_FOUND when nothing matches); any other location (s3a://,
    dbfs:/, a Spark Connect server) is listed by Spark's binaryFile source. -#}
{% macro spark__count_files_matching(location) %}
    {%- set counted = adapter.count_local_files_matching(location.strip("'")) if adapter.type() == 'spark_local' else none -%}
    {%- if counted is none -%}
        {%- set counted = run_query(
            "select count(distinct path) from binaryFile.`" ~ location.strip("'") ~ "`"
        ).columns[0].values()[0] -%}
    {%- endif -%}
    {{- return(counted) -}}
{% endmacro %}


{#- check_raw_parquet_columns(location, required_columns): stops the build
    when a Parquet file of `location` lacks one of the required columns. -#}
{% macro check_raw_parquet_columns(location, required_columns) %}
    {{- return(adapter.dispatch('check_raw_parquet_columns')(location, required_columns)) -}}
{% endmacro %}

{% macro spark__check_raw_parquet_columns(location, required_columns) %}
    {{- return(raw_files_not_on_spark_yet()) -}}
{% endmacro %}

{% macro duckdb__check_raw_parquet_columns(location, required_columns) %}
    {%- set names = [] -%}
    {%- for raw_name, column_name in required_columns -%}
        {%- do names.append("'" ~ raw_name ~ "'") -%}
    {%- endfor -%}
    {%- set missing = run_query(
        "with required(name) as (select unnest([" ~ names | join(", ") ~ "])), "
        ~ "files as (select distinct file_name from parquet_schema(" ~ location ~ ")), "
        ~ "present as (select file_name, lower(name) as name from parquet_schema(" ~ location ~ ")) "
        ~ "select files.file_name, string_agg(required.name, ', ' order by required.name) "
        ~ "from files cross join required "
        ~ "left join present on present.file_name = files.file_name and present.name = required.name "
        ~ "where present.name is null group by 1 order by 1 limit 5"
    ) -%}
    {%- if missing.rows | length > 0 -%}
        {%- set problems = [] -%}
        {%- for row in missing.rows -%}
            {%- do problems.append(row[0] ~ " lacks " ~ row[1]) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "Raw Parquet input is missing required columns: " ~ problems | join("; ")
            ~ ". Every file needs InvoiceNo, StockCode, Description, Quantity, InvoiceDate, "
            ~ "UnitPrice, CustomerID and Country (any case); re-export the files with those columns. The build stops here; the last publication stays as it is."
        ) }}
    {%- endif -%}
{% endmacro %}


{#- raw_files_not_on_spark_yet(): stops the compilation of a read of raw
    Parquet files on Spark (CSV and CSV.gz files are read there; Parquet
    exports are not yet: load them into a table, var transactions_relation),
    and of the DuckDB-only native CSV reader, which Spark never plans. -#}
{% macro raw_files_not_on_spark_yet() %}
    {#- only when SQL is about to run: the project still parses on Spark -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "Reading raw Parquet files (var raw_transactions: " ~ var('raw_transactions') ~ ") is not supported on "
        ~ "Spark yet (CSV and CSV.gz files are): load the export into a table or view and run with "
        ~ "--vars '{transactions_relation: <schema.table>}' "
        ~ "(and transactions_columns when its columns are named differently); see docs/spark.md."
    ) }}
{% endmacro %}
