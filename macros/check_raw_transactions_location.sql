{#-
    check_raw_transactions_location(location, required_columns)

    Runs before the raw files are read and stops the build with a message a
    person can act on when the dbt var `raw_transactions` matches no file, or
    when a Parquet file lacks one of the required columns. (CSV headers are
    checked line by line in read_raw_transaction_lines, which names the file.)
-#}
{% macro check_raw_transactions_location(location, required_columns) %}
    {%- set matched = run_query("select count(*) from glob(" ~ location ~ ")").columns[0].values()[0] -%}
    {%- if matched == 0 -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var raw_transactions is " ~ location ~ ", which matches no file "
            ~ "(relative paths start at the folder you run dbt from). Generate the default data with "
            ~ "`make data`, or point the var at your export, e.g. "
            ~ "dbt build --vars '{raw_transactions: \"path/to/*.csv.gz\"}'."
        ) }}
    {%- endif -%}
    {%- if location.strip("'").lower().endswith('.parquet') -%}
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
                ~ "UnitPrice, CustomerID and Country (any case); re-export the files with those columns."
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
