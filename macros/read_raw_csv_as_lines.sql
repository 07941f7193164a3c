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

{#- Spark: the raw files are not read there yet (raw_files_not_on_spark_yet) -#}
{% macro spark__read_raw_csv_as_lines(location, rejects=none) %}
    {{- return(raw_files_not_on_spark_yet()) -}}
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
        {%- if rejects is not none %}
        ignore_errors = true,
        store_rejects = true,
        rejects_table = '{{ rejects[0] }}',
        rejects_scan = '{{ rejects[1] }}',
        {%- endif %}
        encoding = '{{ var("raw_encoding") }}'
    )
{% endmacro %}
