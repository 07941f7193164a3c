{#-
    Dates and times on DuckDB and Spark.

    Timestamp semantics, the same on both engines: a timestamp is a
    wall-clock reading without a time zone (DuckDB TIMESTAMP). Spark's
    TIMESTAMP is an instant shown in the session time zone, so the spark
    target runs its session in UTC (profiles.yml), where the two agree; the
    bodies below still avoid depending on it where they can.
-#}

{#- day_of_week_iso(timestamp_expression): ISO day of the week, Monday = 1 ... Sunday = 7.
    (DuckDB's dayofweek counts Sunday = 0 ... Saturday = 6, Spark's Sunday = 1 ... Saturday = 7.) -#}
{% macro day_of_week_iso(timestamp_expression) -%}
    {{ return(adapter.dispatch('day_of_week_iso', 'customer_segmentation')(timestamp_expression)) }}
{%- endmacro %}

{% macro duckdb__day_of_week_iso(timestamp_expression) -%}
    cast(isodow({{ timestamp_expression }}) as integer)
{%- endmacro %}

{% macro spark__day_of_week_iso(timestamp_expression) -%}
    cast(extract(dayofweek_iso from {{ timestamp_expression }}) as integer)
{%- endmacro %}


{#- is_weekend(timestamp_expression): true on Saturdays and Sundays. Portable: built on day_of_week_iso. -#}
{% macro is_weekend(timestamp_expression) -%}
    ({{ day_of_week_iso(timestamp_expression) }} in (6, 7))
{%- endmacro %}


{#- epoch_seconds(timestamp_expression): seconds (a double, with the fraction) from
    1970-01-01 00:00:00 to the timestamp's wall-clock reading taken as UTC. The
    difference of two is the wall-clock time between them, whatever the session
    time zone. -#}
{% macro epoch_seconds(timestamp_expression) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'customer_segmentation')(timestamp_expression)) }}
{%- endmacro %}

{% macro duckdb__epoch_seconds(timestamp_expression) -%}
    (cast(epoch_us(cast({{ timestamp_expression }} as timestamp)) as double) / 1000000)
{%- endmacro %}

{% macro spark__epoch_seconds(timestamp_expression) -%}
    (cast(timestampdiff(
        microsecond, timestamp_ntz'1970-01-01 00:00:00', cast({{ timestamp_expression }} as timestamp_ntz)
    ) as double) / 1000000)
{%- endmacro %}


{#- parse_timestamp_with_formats(text_expression, formats): the text read as a
    timestamp by the first of `formats` (strptime syntax, e.g. '%m/%d/%Y %H:%M')
    that reads all of it; null when none does. Numeric fields may be written
    with or without a leading zero ('12/1/2010 8:26'); blanks around the text
    are ignored and a run of blanks (spaces, tabs) reads as one blank of the
    format, as DuckDB's strptime does. -#}
{% macro parse_timestamp_with_formats(text_expression, formats) -%}
    {%- if formats is string or formats | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            'parse_timestamp_with_formats: formats must be a non-empty list of strptime formats, got ' ~ tojson(formats)
        ) }}
    {%- endif -%}
    {{ return(adapter.dispatch('parse_timestamp_with_formats', 'customer_segmentation')(text_expression, formats)) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp_with_formats(text_expression, formats) -%}
    {%- set literals = [] -%}
    {%- for date_format in formats -%}
        {%- do literals.append(sql_string_literal(date_format)) -%}
    {%- endfor -%}
    try_strptime({{ text_expression }}, [{{ literals | join(', ') }}])
{%- endmacro %}

{% macro spark__parse_timestamp_with_formats(text_expression, formats) -%}
    {#- Spark's parser wants the blanks exactly as in the pattern: one space
        for every run of blanks, none around the text -#}
    {%- set blanks_normalized = 'trim(regexp_replace(' ~ text_expression ~ ', ' ~ sql_string_literal('\\s+') ~ ", ' '))" -%}
    {%- set attempts = [] -%}
    {%- for date_format in formats -%}
        {%- do attempts.append(
            'try_to_timestamp(' ~ blanks_normalized ~ ', '
            ~ sql_string_literal(spark_datetime_pattern(date_format, for_parsing=true)) ~ ')'
        ) -%}
    {%- endfor -%}
    {%- if attempts | length == 1 -%}
        {{ attempts[0] }}
    {%- else -%}
        coalesce({{ attempts | join(', ') }})
    {%- endif -%}
{%- endmacro %}


{#- format_timestamp(timestamp_expression, format): the timestamp as text, in a
    strftime format (e.g. '%Y-%m-%d %H:%M:%S'); numeric fields zero-padded. -#}
{% macro format_timestamp(timestamp_expression, format) -%}
    {{ return(adapter.dispatch('format_timestamp', 'customer_segmentation')(timestamp_expression, format)) }}
{%- endmacro %}

{% macro duckdb__format_timestamp(timestamp_expression, format) -%}
    strftime({{ timestamp_expression }}, {{ sql_string_literal(format) }})
{%- endmacro %}

{% macro spark__format_timestamp(timestamp_expression, format) -%}
    date_format({{ timestamp_expression }}, {{ sql_string_literal(spark_datetime_pattern(format, for_parsing=false)) }})
{%- endmacro %}


{#- spark_datetime_pattern(strftime_format, for_parsing): a strftime/strptime
    format as a Spark datetime pattern. Used by the spark__ bodies above; stops
    the compilation on a directive it does not know. -#}
{% macro spark_datetime_pattern(strftime_format, for_parsing) -%}
    {#- directive: (pattern for parsing, pattern for formatting); one-letter
        numeric fields parse with or without a leading zero, like strptime -#}
    {%- set directives = {
        'Y': ('yyyy', 'yyyy'), 'y': ('yy', 'yy'), 'm': ('M', 'MM'), 'd': ('d', 'dd'),
        'H': ('H', 'HH'), 'I': ('h', 'hh'), 'M': ('m', 'mm'), 'S': ('s', 'ss'),
        'f': ('SSSSSS', 'SSSSSS'), 'p': ('a', 'a'), 'b': ('MMM', 'MMM'), 'B': ('MMMM', 'MMMM'),
        'a': ('EEE', 'EEE'), 'A': ('EEEE', 'EEEE'), 'j': ('D', 'DDD'), 'z': ('XX', 'XX'),
    } -%}
    {%- set pieces = [] -%}
    {%- set state = namespace(directive=false, literal='') -%}
    {#- parsing: a run of blanks in the format is one space (see parse_timestamp_with_formats) -#}
    {%- set format_text = modules.re.sub('\\s+', ' ', strftime_format | trim) if for_parsing else strftime_format -%}
    {%- for character in format_text -%}
        {%- if state.directive -%}
            {%- set state.directive = false -%}
            {%- if character == '%' -%}
                {%- set state.literal = state.literal ~ '%' -%}
            {%- elif character in directives -%}
                {%- if state.literal -%}
                    {%- do pieces.append(_spark_pattern_literal(state.literal)) -%}
                    {%- set state.literal = '' -%}
                {%- endif -%}
                {%- do pieces.append(directives[character][0 if for_parsing else 1]) -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error(
                    'The date format ' ~ tojson(strftime_format) ~ ' uses %' ~ character ~ ', which has no Spark '
                    ~ 'equivalent here; use %' ~ directives.keys() | join(', %') ~ ' (macro spark_datetime_pattern).'
                ) }}
            {%- endif -%}
        {%- elif character == '%' -%}
            {%- set state.directive = true -%}
        {%- else -%}
            {%- set state.literal = state.literal ~ character -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if state.literal -%}
        {%- do pieces.append(_spark_pattern_literal(state.literal)) -%}
    {%- endif -%}
    {{ return(pieces | join('')) }}
{%- endmacro %}

{#- Literal text in a Spark datetime pattern: letters and quotes quoted. -#}
{% macro _spark_pattern_literal(text) -%}
    {%- if modules.re.search("[A-Za-z'\\[\\]#{}]", text) -%}
        {{ return("'" ~ text | replace("'", "''") ~ "'") }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}


{#- current_local_timestamp(): now, as a wall-clock timestamp in the session's time zone. -#}
{% macro current_local_timestamp() -%}
    {{ return(adapter.dispatch('current_local_timestamp', 'customer_segmentation')()) }}
{%- endmacro %}

{% macro duckdb__current_local_timestamp() -%}
    current_localtimestamp()
{%- endmacro %}

{% macro spark__current_local_timestamp() -%}
    current_timestamp()
{%- endmacro %}


{#- type_timestamp_with_time_zone(): the type of an instant (a point in time,
    e.g. run_started_at): DuckDB TIMESTAMPTZ, Spark TIMESTAMP. -#}
{% macro type_timestamp_with_time_zone() -%}
    {{ return(adapter.dispatch('type_timestamp_with_time_zone', 'customer_segmentation')()) }}
{%- endmacro %}

{% macro duckdb__type_timestamp_with_time_zone() -%}
    timestamptz
{%- endmacro %}

{% macro spark__type_timestamp_with_time_zone() -%}
    timestamp
{%- endmacro %}
