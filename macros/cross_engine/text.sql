{#-
    Text and regular expressions on DuckDB and Spark.

    Patterns are given as Jinja strings (the regular expression itself, not a
    SQL literal): the macros write the literal the engine needs, because
    Spark reads a backslash in a SQL string as an escape and DuckDB does not.
    Write patterns in the syntax RE2 (DuckDB) and java.util.regex (Spark)
    share: character classes, \d \s \w, (?:...), quantifiers.
-#}

{#- regexp_is_full_match(text_expression, pattern): true when the pattern matches the whole text. -#}
{% macro regexp_is_full_match(text_expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_is_full_match', 'customer_segmentation')(text_expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_is_full_match(text_expression, pattern) -%}
    regexp_full_match({{ text_expression }}, {{ sql_string_literal(pattern) }})
{%- endmacro %}

{% macro spark__regexp_is_full_match(text_expression, pattern) -%}
    {#- \z: the very end (Java's $ also matches before a final line break) -#}
    regexp_like({{ text_expression }}, {{ sql_string_literal('^(?:' ~ pattern ~ ')\\z') }})
{%- endmacro %}


{#- regexp_contains(text_expression, pattern): true when the pattern matches somewhere in the text. -#}
{% macro regexp_contains(text_expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_contains', 'customer_segmentation')(text_expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_contains(text_expression, pattern) -%}
    regexp_matches({{ text_expression }}, {{ sql_string_literal(pattern) }})
{%- endmacro %}

{% macro spark__regexp_contains(text_expression, pattern) -%}
    regexp_like({{ text_expression }}, {{ sql_string_literal(pattern) }})
{%- endmacro %}


{#- regexp_replace_all(text_expression, pattern, replacement): every match
    replaced by the plain text `replacement` (no group references). -#}
{% macro regexp_replace_all(text_expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'customer_segmentation')(text_expression, pattern, replacement)) }}
{%- endmacro %}

{% macro duckdb__regexp_replace_all(text_expression, pattern, replacement) -%}
    {#- DuckDB reads \ in the replacement as a group reference: quote it -#}
    regexp_replace(
        {{ text_expression }},
        {{ sql_string_literal(pattern) }},
        {{ sql_string_literal(replacement | replace('\\', '\\\\')) }},
        'g'
    )
{%- endmacro %}

{% macro spark__regexp_replace_all(text_expression, pattern, replacement) -%}
    {#- Spark reads $ and \ in the replacement as group references: quote them -#}
    regexp_replace(
        {{ text_expression }},
        {{ sql_string_literal(pattern) }},
        {{ sql_string_literal(replacement | replace('\\', '\\\\') | replace('$', '\\$')) }}
    )
{%- endmacro %}


{#- trim_spaces(text_expression): the text without the space characters
    (Unicode category Zs: U+0020, the no-break space U+00A0, U+1680,
    U+2000 to U+200A, U+202F, U+205F, the ideographic space U+3000) at
    either end; tabs, line breaks and zero-width characters are kept.
    DuckDB's trim removes exactly those; Spark's trim only U+0020, so Spark
    removes the class \p{Zs} with a regular expression. -#}
{% macro trim_spaces(text_expression) -%}
    {{ return(adapter.dispatch('trim_spaces', 'customer_segmentation')(text_expression)) }}
{%- endmacro %}

{% macro duckdb__trim_spaces(text_expression) -%}
    trim({{ text_expression }})
{%- endmacro %}

{% macro spark__trim_spaces(text_expression) -%}
    {{ regexp_replace_all(text_expression, '^\\p{Zs}+|\\p{Zs}+$', '') }}
{%- endmacro %}


{#- unicode_character(code_point): SQL, the text of one character of the
    Basic Multilingual Plane, by its code point (an integer below 65536:
    65279 is the byte order mark). DuckDB: chr; Spark: a \u escape in a
    literal (Spark's chr wraps at 256). -#}
{% macro unicode_character(code_point) -%}
    {{ return(adapter.dispatch('unicode_character', 'customer_segmentation')(code_point)) }}
{%- endmacro %}

{% macro duckdb__unicode_character(code_point) -%}
    chr({{ code_point | int }})
{%- endmacro %}

{% macro spark__unicode_character(code_point) -%}
    '\u{{ '%04X' | format(code_point | int) }}'
{%- endmacro %}


{#- has_prefix(text_expression, prefix_expression): true when the text begins with the prefix. -#}
{% macro has_prefix(text_expression, prefix_expression) -%}
    {{ return(adapter.dispatch('has_prefix', 'customer_segmentation')(text_expression, prefix_expression)) }}
{%- endmacro %}

{% macro duckdb__has_prefix(text_expression, prefix_expression) -%}
    starts_with({{ text_expression }}, {{ prefix_expression }})
{%- endmacro %}

{% macro spark__has_prefix(text_expression, prefix_expression) -%}
    startswith({{ text_expression }}, {{ prefix_expression }})
{%- endmacro %}


{#- split_to_array(text_expression, delimiter): the text cut at every
    occurrence of the plain-text `delimiter`, empty pieces kept. For one
    piece by position use dbt.split_part. -#}
{% macro split_to_array(text_expression, delimiter) -%}
    {{ return(adapter.dispatch('split_to_array', 'customer_segmentation')(text_expression, delimiter)) }}
{%- endmacro %}

{% macro duckdb__split_to_array(text_expression, delimiter) -%}
    string_split({{ text_expression }}, {{ sql_string_literal(delimiter) }})
{%- endmacro %}

{% macro spark__split_to_array(text_expression, delimiter) -%}
    {#- Spark splits at a regular expression: escape the delimiter's characters;
        limit -1 keeps trailing empty pieces -#}
    {%- set escaped = [] -%}
    {%- for character in delimiter -%}
        {%- do escaped.append('\\' ~ character if character in '.^$|?*+()[]{}\\' else character) -%}
    {%- endfor -%}
    split({{ text_expression }}, {{ sql_string_literal(escaped | join('')) }}, -1)
{%- endmacro %}


{#- raise_error(message_expression): stops the query with the message when evaluated
    (in a CASE branch: only for the rows that reach it). -#}
{% macro raise_error(message_expression) -%}
    {{ return(adapter.dispatch('raise_error', 'customer_segmentation')(message_expression)) }}
{%- endmacro %}

{% macro duckdb__raise_error(message_expression) -%}
    error({{ message_expression }})
{%- endmacro %}

{% macro spark__raise_error(message_expression) -%}
    raise_error({{ message_expression }})
{%- endmacro %}
