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
    {%- if raw_location_is_parquet(location) and required_columns | length > 0 -%}
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

{#- Spark: each file's own column names, read from its Parquet footer by the
    binaryFile source (Spark's Parquet source gives one schema for all the
    files, and null for a column a file lacks). The footer is the
    `footer length` bytes before the last eight (a little-endian length and
    `PAR1`); a column name is stored in it as its length byte and its
    bytes (Thrift), matched here in any case. -#}
{% macro spark__check_raw_parquet_columns(location, required_columns) %}
    {%- set footer_columns -%}
        {{ raw_file_path('path') }} as source_file,
        content,
        decode(substring(content, -4, 4), 'ISO-8859-1') = 'PAR1' as has_parquet_magic,
        hex(substring(content, -8, 4)) as footer_length_hex
    {%- endset -%}
    {%- set missing_names = [] -%}
    {%- for raw_name in required_columns | map(attribute=0) | sort -%}
        {%- do missing_names.append(
            "case when not contains(footer_text, chr(" ~ raw_name | length ~ ") || '" ~ raw_name ~ "') then '" ~ raw_name ~ "' end"
        ) -%}
    {%- endfor -%}
    {%- set missing_query -%}
        with

        tails as (
            select
                source_file,
                content,
                has_parquet_magic,
                cast({{ spark__uint32_from_little_endian_hex('footer_length_hex') }} as int) as footer_length
            from {{ spark__raw_files_scan('binaryFile', location, footer_columns, 'source_file') }} as files
        ),

        footers as (
            select
                source_file,
                has_parquet_magic,
                lower(decode(substring(content, -8 - footer_length, footer_length), 'ISO-8859-1')) as footer_text
            from tails
        ),

        problems as (
            select
                source_file,
                case
                    when not coalesce(has_parquet_magic, false) then 'is not a Parquet file (no PAR1 footer)'
                    else concat('lacks ', concat_ws(', ', {{ missing_names | join(', ') }}))
                end as problem
            from footers
        )

        select source_file, problem
        from problems
        where problem != 'lacks '
        order by source_file
        limit 5
    {%- endset -%}
    {%- set missing = run_query(missing_query) -%}
    {%- if missing.rows | length > 0 -%}
        {%- set problems = [] -%}
        {%- for row in missing.rows -%}
            {%- do problems.append(row[0] ~ " " ~ row[1]) -%}
        {%- endfor -%}
        {%- do _stop_on_raw_parquet_problems(problems) -%}
    {%- endif -%}
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
        {%- do _stop_on_raw_parquet_problems(problems) -%}
    {%- endif -%}
{% endmacro %}


{#- Stops the build on Parquet files that lack required columns: `problems`
    is a list of "<file> lacks <columns>" (or what else is wrong with it). -#}
{% macro _stop_on_raw_parquet_problems(problems) %}
    {{ exceptions.raise_compiler_error(
        "Raw Parquet input is missing required columns: " ~ problems | join("; ")
        ~ ". Every file needs InvoiceNo, StockCode, Description, Quantity, InvoiceDate, "
        ~ "UnitPrice, CustomerID and Country (any case); re-export the files with those columns. The build stops here; the last publication stays as it is."
    ) }}
{% endmacro %}


{#- native_csv_reader_not_on_spark(): stops the compilation of DuckDB's
    native CSV reader on Spark, which never plans it (Spark reads every CSV
    file with the line-exact reader: no header line in its survey). -#}
{% macro native_csv_reader_not_on_spark() %}
    {#- only when SQL is about to run: the project still parses on Spark -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "The native CSV reader (var raw_transactions: " ~ var('raw_transactions') ~ ") is DuckDB's: Spark reads "
        ~ "CSV files with the line-exact reader (read_by = 'line_exact_reader'), and this read should not have "
        ~ "been planned; report it with the command you ran."
    ) }}
{% endmacro %}
