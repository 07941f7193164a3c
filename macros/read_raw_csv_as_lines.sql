{#-
    read_raw_csv_as_lines(location)

    The DuckDB table function that reads CSV files as whole physical lines,
    one VARCHAR column `raw_line` plus `filename`: no header handling, no
    quoting, and a column separator no text export contains, so the reader
    can neither skip, cut nor merge a line. Shared by the line reader and the
    independent line count. `rejects`, when given, is a pair of table
    names: lines that cannot be decoded are then left out and recorded in
    them (DuckDB's rejects tables) instead of stopping the read.
-#}
{% macro read_raw_csv_as_lines(location, rejects=none) %}
    {{- return(adapter.dispatch('read_raw_csv_as_lines')(location, rejects)) -}}
{% endmacro %}

{#- Spark: a subquery over the text source (each physical line whole, a .gz
    file decompressed by its extension), with the columns filename, raw_line,
    line_bytes (the line's bytes in the file), is_decodable (valid text in
    the raw_encoding) and the read order block_start, scan_order: a line's
    number in its file is its row_number() over (partition by filename order
    by block_start, scan_order) (a .gz file is one block; the lines of one
    block are read in order). `location` is a quoted glob, or a list of
    files (the glob is then read and filtered to them). The text source
    reads UTF-8 and keeps undecodable bytes as they are; Latin-1 lines are
    decoded from those bytes. `rejects` is not used: the survey finds the
    undecodable lines by is_decodable. -#}
{% macro spark__read_raw_csv_as_lines(location, rejects=none) %}
    {%- set encoding = var('raw_encoding') | lower -%}
    {%- if encoding in ('latin-1', 'latin1', 'iso-8859-1') -%}
        {%- set raw_line, is_decodable = "decode(cast(value as binary), 'ISO-8859-1')", 'true' -%}
    {%- elif encoding in ('utf-8', 'utf8') -%}
        {%- set raw_line, is_decodable = 'value', 'is_valid_utf8(value)' -%}
    {%- elif execute -%}
        {{ exceptions.raise_compiler_error(
            "The dbt var raw_encoding is " ~ var('raw_encoding') ~ ", which Spark does not read line by line "
            ~ "(it reads UTF-8 and Latin-1 files). Convert the files to UTF-8 first, e.g. "
            ~ "`iconv -f utf-16 -t utf-8 in.csv > out.csv`, or build on DuckDB."
        ) }}
    {%- endif -%}
    {%- set columns -%}
        {{ raw_file_path('_metadata.file_path') }} as filename,
        _metadata.file_block_start as block_start,
        monotonically_increasing_id() as scan_order,
        {{ raw_line }} as raw_line,
        octet_length(value) as line_bytes,
        {{ is_decodable }} as is_decodable
    {%- endset -%}
    {{ spark__raw_files_scan('text', location, columns, 'filename') }}
{% endmacro %}

{% macro duckdb__read_raw_csv_as_lines(location, rejects=none) %}
    read_csv(
        {{ location }},
        columns = {'raw_line': 'VARCHAR'},
        header = false,
        auto_detect = false,
        delim = {{ raw_line_separator() }},
        quote = '',
        escape = '',
        strict_mode = false,
        filename = true,
        {{- duckdb__read_csv_rejects_options(rejects) }}
        encoding = '{{ var("raw_encoding") }}'
    )
{% endmacro %}


{#- duckdb__read_csv_rejects_options(rejects): the options of DuckDB's
    read_csv that leave out the lines it cannot read and record them in the
    rejects tables `rejects` (a pair of names: errors, scans) instead of
    stopping the read; nothing when `rejects` is none. Shared by the survey's
    plain read and the native reader's write. -#}
{% macro duckdb__read_csv_rejects_options(rejects) %}
    {%- if rejects is not none %}
        ignore_errors = true,
        store_rejects = true,
        rejects_table = '{{ rejects[0] }}',
        rejects_scan = '{{ rejects[1] }}',
    {%- endif %}
{%- endmacro %}

{#- Spark: a subquery of `columns` (SQL, over the source's own columns) read
    from the raw files `location` by Spark's `file_format` source (text,
    parquet, binaryFile). A quoted glob is read as it is; a list of files
    reads the source's glob filtered to them by `path_column` (one of
    `columns`, the path as raw_file_path writes it), so that the paths match
    those the glob gives. -#}
{% macro spark__raw_files_scan(file_format, location, columns, path_column) %}
    {%- set is_glob = location.startswith("'") -%}
    (
        select *
        from (
            select
                {{ columns }}
            from {{ file_format }}.`{{ (location if is_glob else source('online_retail', 'transaction_files').render()).strip("'") }}`
        ) as scanned_files
        {%- if not is_glob %}
            where array_contains({{ location }}, {{ path_column }})
        {%- endif %}
    )
{% endmacro %}

{#- raw_file_path(path_expression): SQL, the path of a raw file as the
    engine's file reader gives it (`path_expression`) written the way the
    load records it (source_file). DuckDB: as it is. Spark: a local file's
    URI (file:/data/x.csv) as its path (/data/x.csv). -#}
{% macro raw_file_path(path_expression) %}
    {{- return(adapter.dispatch('raw_file_path')(path_expression)) -}}
{% endmacro %}

{% macro default__raw_file_path(path_expression) %}
    {{- return(path_expression) -}}
{% endmacro %}

{% macro spark__raw_file_path(path_expression) %}
    {{- return("regexp_replace(" ~ path_expression ~ ", '^file:(//)?', '')") -}}
{% endmacro %}
