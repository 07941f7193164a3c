{#-
    raw_date_formats_by_use(source_relation, files=none, sample_lines=100000)

    The `raw_date_formats` entries in the order the load should try them:
    those that read the most dates of a sample (the first `sample_lines`
    lines of the files to read, in file name order) first, ties in the
    listed order. So a date two formats can read (`04/03/2011`) is read the
    way the sample is written, and each line is parsed once, by the format
    that fits it, instead of trying every format on every line.

    Returns the listed order when there is nothing to read, when fewer than
    two formats are listed, or when SQL is not about to run (compile, docs).
-#}
{% macro raw_date_formats_by_use(source_relation, files=none, sample_lines=100000) %}
    {#- a bad var stops the run in the validate_settings hook, after parsing -#}
    {%- set listed = var('raw_date_formats') -%}
    {%- set formats = listed if listed is iterable and listed is not string else [] -%}
    {%- if not (execute and flags.WHICH in ('run', 'build')) or formats | length < 2
        or (files is not none and files | length == 0) -%}
        {{ return(formats) }}
    {%- endif -%}
    {%- set usage_query -%}
        with

        sample_dates as (
            select {{ trim_spaces('invoice_date') }} as invoice_date
            from ({{ read_raw_transaction_lines(source_relation, files, sample_lines=sample_lines) }})
            where line_error is null
        )

        select
            {%- for date_format in formats %}
                count({{ parse_timestamp_with_formats('invoice_date', [date_format]) }}){{ "," if not loop.last }}
            {%- endfor %}
        from sample_dates
    {%- endset -%}
    {%- set counts = run_query(usage_query).rows[0] -%}
    {%- set ranked = [] -%}
    {%- for date_format in formats -%}
        {%- do ranked.append((-(counts[loop.index0] | int), loop.index0, date_format)) -%}
    {%- endfor -%}
    {{ return(ranked | sort | map(attribute=2) | list) }}
{% endmacro %}
