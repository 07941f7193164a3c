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
    {%- set matched = run_query("select count(*) from glob(" ~ location ~ ")").columns[0].values()[0] -%}
    {%- if matched == 0 -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var raw_transactions is " ~ location ~ ", which matches no file "
            ~ "(relative paths start at the folder you run dbt from). Generate the default data with "
            ~ "`make data`, or point the var at your export, e.g. "
            ~ "dbt build --vars '{raw_transactions: \"path/to/*.csv.gz\"}'. "
            ~ "The build stops here; the last publication stays as it is."
        ) }}
    {%- endif -%}
    {%- if location.strip("'").lower().endswith('.parquet') and required_columns | length > 0 -%}
        {%- do _check_raw_parquet_columns(read_location, required_columns) -%}
    {%- endif -%}
{% endmacro %}


{% macro _check_raw_parquet_columns(location, required_columns) %}
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
