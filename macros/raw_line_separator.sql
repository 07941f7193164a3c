{#-
    raw_line_separator()

    The column separator of the whole-line CSV reads (as SQL): four ASCII
    control characters in a row (unit, record, group and file separators),
    which no text export contains. A single one would not do: the reader
    cuts a line at its separator, and a stray 0x1F in a description would
    lose the rest of the line without a trace.
-#}
{% macro raw_line_separator() %}
    {{- return("chr(31) || chr(30) || chr(29) || chr(28)") -}}
{% endmacro %}
