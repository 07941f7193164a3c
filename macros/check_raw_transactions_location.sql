{#-
    check_raw_transactions_location(location, required_columns, read_location=none)

    Runs before the raw files are read and stops the build with a message a
    person can act on when

    - the dbt var `raw_transactions` matches no file;
    - a .gz file is cut off or corrupt (DuckDB would read it up to the
      damage without an error): the message names the file;
    - a CSV file has a line the reader cannot decode in the `raw_encoding`
      (a Latin-1 export read as UTF-8): the message names the file and line;
    - a Parquet file lacks one of the required columns.

    (CSV headers are checked in read_raw_transaction_lines, which names the
    file.) `read_location` narrows the encoding and column checks to the
    files this run reads (a list literal), when not the whole glob. The
    encoding check reads every line once more, with DuckDB's
    rejects tables, because a decoding error would otherwise stop the
    reader with DuckDB's own message.
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
    {%- if location.strip("'").lower().endswith('.parquet') -%}
        {%- do _check_raw_parquet_columns(read_location, required_columns) -%}
    {%- else -%}
        {%- do _check_raw_gzip_files(read_location) -%}
        {%- do _check_raw_csv_decoding(read_location) -%}
    {%- endif -%}
{% endmacro %}


{#- A cut-off .gz file would be read up to the cut without an error:
    raw_gzip_problem (python_jobs/raw_files, registered by the dbt-duckdb
    plugin) decompresses each .gz file once and names what is wrong. -#}
{% macro _check_raw_gzip_files(location) %}
    {%- set files_query = "select unnest(" ~ location ~ ") as file" if location.startswith('[')
        else "select file from glob(" ~ location ~ ")" -%}
    {%- set problems = run_query(
        "select file, problem, count(*) over () as files from ("
        ~ "select file, raw_gzip_problem(file) as problem from (" ~ files_query ~ ") "
        ~ "where lower(file) like '%.gz') where problem is not null order by file limit 3"
    ) -%}
    {%- if problems.rows | length > 0 -%}
        {%- set first = problems.rows[0] -%}
        {%- set others = [] -%}
        {%- for row in problems.rows[1:] -%}
            {%- do others.append(row[0]) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ first[0] ~ " is not a whole gzip file: " ~ first[1] ~ "."
            ~ (" Also: " ~ others | join(", ") ~ "." if others else "")
            ~ " Reading it would lose the lines after the damage without a trace, so the build stops here; "
            ~ "the last publication stays as it is. Copy or export the file again (`gzip -t <file>` checks it), "
            ~ "or move it out of the raw_transactions folder."
        ) }}
    {%- endif -%}
{% endmacro %}


{% macro _check_raw_csv_decoding(location) %}
    {%- set encoding = var('raw_encoding') -%}
    {%- do run_query('drop table if exists raw_decoding_errors') -%}
    {%- do run_query('drop table if exists raw_decoding_scans') -%}
    {%- do run_query(
        "select count(*) from read_csv(" ~ location ~ ", columns = {'raw_line': 'VARCHAR'}, header = false, "
        ~ "auto_detect = false, delim = " ~ raw_line_separator() ~ ", quote = '', escape = '', "
        ~ "strict_mode = false, encoding = '" ~ encoding ~ "', ignore_errors = true, store_rejects = true, "
        ~ "rejects_table = 'raw_decoding_errors', rejects_scan = 'raw_decoding_scans')"
    ) -%}
    {%- set problems = run_query(
        "select scans.file_path, errors.line, errors.error_type, errors.error_message, "
        ~ "count(*) over () as lines, count(distinct scans.file_path) over () as files "
        ~ "from raw_decoding_errors as errors "
        ~ "inner join raw_decoding_scans as scans using (scan_id, file_id) "
        ~ "order by scans.file_path, errors.line limit 3"
    ) -%}
    {%- do run_query('drop table if exists raw_decoding_errors') -%}
    {%- do run_query('drop table if exists raw_decoding_scans') -%}
    {%- if problems.rows | length > 0 -%}
        {%- set first = problems.rows[0] -%}
        {%- set others = [] -%}
        {%- for row in problems.rows[1:] -%}
            {%- do others.append(row[0] ~ " line " ~ row[1]) -%}
        {%- endfor -%}
        {%- set where = "Raw file " ~ first[0] ~ ", line " ~ first[1] -%}
        {%- set extent = " (" ~ first[4] ~ " line" ~ ("s" if first[4] != 1 else "") ~ " in "
            ~ first[5] ~ " file" ~ ("s" if first[5] != 1 else "") ~ " affected"
            ~ ("; also " ~ others | join(", ") if others else "") ~ "). " -%}
        {%- if first[2] == 'INVALID ENCODING' -%}
            {{ exceptions.raise_compiler_error(
                where ~ ", is not valid " ~ encoding | upper ~ " text, which the dbt var raw_encoding says the files are"
                ~ extent ~ "The build stops here; the last publication stays as it is. If the export is Latin-1 (ISO-8859-1, common for Excel and older "
                ~ "Windows tools), run with --vars '{raw_encoding: latin-1}'; Windows-1252 files (with characters such as "
                ~ "€ or ’) and files that mix encodings must be converted to UTF-8 first, e.g. "
                ~ "`iconv -f cp1252 -t utf-8 in.csv > out.csv`."
            ) }}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                where ~ ", cannot be read: " ~ first[3] ~ extent ~ "The build stops here; the last publication stays as it is. Fix or remove the file."
            ) }}
        {%- endif -%}
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


{#-
    check_raw_transaction_files(source_relation, files=none)

    The checks of check_raw_transactions_location for the files a run is
    about to read (`files`, or the whole glob), run only when SQL is about
    to execute (`dbt run` / `dbt build`), not when it is just compiled, and
    not when the run reads no file (an incremental run with nothing new).
-#}
{% macro check_raw_transaction_files(source_relation, files=none) %}
    {%- if execute and flags.WHICH in ('run', 'build') and (files is none or files | length > 0) -%}
        {%- do check_raw_transactions_location(
            source_relation.render(), raw_transaction_columns(), raw_files_location(source_relation, files)
        ) -%}
    {%- endif -%}
{% endmacro %}
