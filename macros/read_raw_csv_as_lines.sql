{#-
    read_raw_csv_as_lines(location)

    The DuckDB table function that reads CSV files as whole physical lines,
    one VARCHAR column `raw_line` plus `filename`: no header handling, no
    quoting, and a column separator no text export contains, so the reader
    can neither skip, cut nor merge a line. Shared by the line reader and the
    independent line count.
-#}
{% macro read_raw_csv_as_lines(location) %}
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
        encoding = '{{ var("raw_encoding") }}'
    )
{% endmacro %}
