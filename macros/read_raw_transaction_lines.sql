{#-
    read_raw_transaction_lines(source_relation, files=none)

    Reads every physical line of the raw transaction files once and splits it
    into the eight Online Retail fields, as text. Nothing is typed or dropped
    here: that is the staging model's job. Returns one row per line with

      source_file, source_line_number, raw_line, line_error,
      invoice_no, stock_code, description, quantity, invoice_date,
      unit_price, customer_id, country

    `files`, when given, is the list of paths to read instead of the whole
    glob (an incremental run's new files). `sample_lines`, when given, reads
    only the first that many physical lines of the load (in file name
    order), e.g. to look at the date formats before the full read.

    CSV / CSV.gz: each line is read whole (no quoting, and a column separator
    that no text export contains, see raw_line_separator) so that a malformed
    line cannot be skipped, cut or merged by the CSV reader; fields are then
    split in SQL, honouring double quotes with `""` as the escaped quote.
    Columns are matched by the header's names (case-insensitive, any order,
    extra columns ignored). `line_error` is blank_line, malformed_quoting or
    wrong_field_count where the line cannot be split into the header's fields.

    With the var `transactions_relation` set, the rows of that warehouse
    table or view are read instead of any file (read_transactions_relation).

    Parquet (a glob ending in .parquet): one row per Parquet row, every column
    cast to text, `source_line_number` is the row number within the file and
    `raw_line` the row's values joined by commas. Typed columns need no
    setting: a numeric Quantity or CustomerID is read as its number (NaN as
    empty), and an InvoiceDate stored as a date or a timestamp (any precision,
    with a time zone: converted to UTC) becomes `YYYY-MM-DD HH:MM:SS`, which
    the first default `raw_date_formats` entry reads.
-#}
{% macro read_raw_transaction_lines(source_relation, files=none, sample_lines=none) %}
    {%- if transactions_relation() is not none -%}
        {{- return(read_transactions_relation(sample_lines)) -}}
    {%- endif -%}
    {%- set location = source_relation.render() -%}
    {%- set read_location = raw_files_location(source_relation, files) -%}
    {%- if raw_location_is_parquet(location) -%}
        {{ read_raw_parquet_rows(read_location, raw_transaction_columns(), sample_lines) }}
    {%- else -%}
        {{ read_raw_csv_lines_exactly(read_location, raw_transaction_columns(), sample_lines, files) }}
    {%- endif -%}
{% endmacro %}


{#- The eight Online Retail column names as the export spells them, in file order. -#}
{% macro online_retail_column_names() %}
    {{- return(['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'UnitPrice', 'CustomerID', 'Country']) -}}
{% endmacro %}


{#- The eight required columns: (lower-case name in the raw header, our name). -#}
{% macro raw_transaction_columns() %}
    {{- return([
        ('invoiceno', 'invoice_no'),
        ('stockcode', 'stock_code'),
        ('description', 'description'),
        ('quantity', 'quantity'),
        ('invoicedate', 'invoice_date'),
        ('unitprice', 'unit_price'),
        ('customerid', 'customer_id'),
        ('country', 'country'),
    ]) -}}
{% endmacro %}


{#- The files to read as SQL: the given paths as a list literal (an
    incremental run's new files), or the source's whole glob. -#}
{% macro raw_files_location(source_relation, files=none) %}
    {%- if files is none -%}
        {{- return(source_relation.render()) -}}
    {%- endif -%}
    {%- set quoted = [] -%}
    {%- for file in files -%}
        {%- do quoted.append(sql_string_literal(file)) -%}
    {%- endfor -%}
    {{- return(array_of(quoted)) -}}
{% endmacro %}


{#- True when `location` (a source's rendered location: the quoted glob of
    the dbt var raw_transactions) names Parquet files, which the raw layer
    reads as Parquet; any other location is read as CSV. -#}
{% macro raw_location_is_parquet(location) %}
    {{- return(location.strip("'").lower().endswith('.parquet')) -}}
{% endmacro %}


{#- The CSV dialect of the raw files as the line-exact reader uses it: the
    delimiter (the var), as shown in messages, as a regex, and the regex of
    one field (quoted with "" as the escaped quote, or plain). -#}
{% macro raw_csv_dialect() %}
    {#- the var is checked up front by validate_settings (on-run-start) -#}
    {%- set delimiter = var('raw_csv_delimiter') | string -%}
    {%- set d = '\\t' if delimiter == '\t' else ('\\' ~ delimiter if delimiter in '.^$|?*+()[]{}' else delimiter) -%}
    {%- set quoted_field = '"(?:[^"]|"")*"' -%}
    {%- set plain_field = '[^' ~ d ~ '"]*' -%}
    {{- return({
        'delimiter': delimiter,
        'delimiter_shown': '\\t' if delimiter == '\t' else delimiter,
        'd': d,
        'any_field': '(?:' ~ quoted_field ~ '|' ~ plain_field ~ ')',
    }) -}}
{% endmacro %}


{#- raw_line_has_malformed_quoting(column): SQL, true for a line (the text
    in `column`) that holds a double quote but cannot be split into quoted
    and plain fields. One rule for the line-exact reader (reason
    malformed_quoting) and the survey (which sends such a file to it). -#}
{% macro raw_line_has_malformed_quoting(column) %}
    {%- set dialect = raw_csv_dialect() -%}
    {#- a CASE, so that the regex runs only on the few lines with a quote -#}
    {{- return(
        "(case when contains(" ~ column ~ ", '\"') then not "
        ~ regexp_is_full_match(column, dialect.any_field ~ "(?:" ~ dialect.d ~ dialect.any_field ~ ")*")
        ~ " else false end)"
    ) -}}
{% endmacro %}


{#- raw_csv_fields(column): SQL, the fields of a line (the text in
    `column`) as an array of text: a plain split at the delimiter when it has
    no quote, else a regex that honours quoting, with the quotes removed and
    "" read as ". -#}
{% macro raw_csv_fields(column) %}
    {%- set dialect = raw_csv_dialect() -%}
    {%- set unquoted_field -%}
        case
            when length(field) >= 2 and left(field, 1) = '"' and right(field, 1) = '"'
                then replace(substring(field, 2, length(field) - 2), '""', '"')
            else field
        end
    {%- endset -%}
    {%- set quoting_fields = "regexp_extract_all(" ~ column ~ ", "
        ~ sql_string_literal('(?:^|' ~ dialect.d ~ ')(' ~ dialect.any_field ~ ')') ~ ", 1)" -%}
    {%- set fields -%}
        case
            when not contains({{ column }}, '"') then {{ split_to_array(column, dialect.delimiter) }}
            else {{ transform_array(quoting_fields, 'field', unquoted_field) }}
        end
    {%- endset -%}
    {{- return(fields) -}}
{% endmacro %}


{#-
    read_raw_csv_lines_exactly(location, required_columns, sample_lines=none, files=none)

    The line-exact CSV reader of read_raw_transaction_lines: every physical
    line of the files `location` (SQL) read whole, split in SQL, the header
    checked by name. `files`, when given, is the list of paths `location`
    holds (an engine may read them one by one). Each engine numbers the
    lines of its own reader (CTEs numbered_lines and header_lines); the
    split, the header check and the line_error rules are one macro for both
    (raw_csv_lines_by_header).
-#}
{% macro read_raw_csv_lines_exactly(location, required_columns, sample_lines=none, files=none) %}
    {{- return(adapter.dispatch('read_raw_csv_lines_exactly')(location, required_columns, sample_lines, files)) -}}
{% endmacro %}

{#- Spark: a line's number is its row_number() in its file, in the order of
    Spark's text source (spark__read_raw_csv_as_lines). -#}
{% macro spark__read_raw_csv_lines_exactly(location, required_columns, sample_lines=none, files=none) %}
    with

    numbered_lines as (
        select
            filename as source_file,
            row_number() over (partition by filename order by block_start, scan_order) as source_line_number,
            raw_line
        from {{ read_raw_csv_as_lines(location) }} as raw_lines
        {%- if sample_lines is not none %}
            order by source_file, source_line_number
            limit {{ sample_lines }}
        {%- endif %}
    ),

    {{ raw_csv_header_lines() }}

    {{ raw_csv_lines_by_header(required_columns) }}
{% endmacro %}

{#- DuckDB: `files` (the load's, sample_lines none) are read one
    `with ordinality` read per file under UNION ALL, as the native reader
    does (duckdb__read_raw_csv_natively): the reads of different files run
    on different threads, and a line's number is its row number in its own
    read. A glob, or a sample of the first `sample_lines` lines of the load,
    is one read of every file, which stops after the sample: its lines come
    file after file, so a line's number is its scan position less its
    file's first. The bench's 10.8M lines with one line of malformed
    quoting added to each of the 305 files (so every file is read here):
    base_online_retail__lines_parsed 13.9 and 14.0 s, against 15.2 and
    16.1 s in one read, and 15.2 s with the per-file reads in a
    materialized CTE (which speeds the native reader's write, not this
    one); the tables written are the same. -#}
{% macro duckdb__read_raw_csv_lines_exactly(location, required_columns, sample_lines=none, files=none) %}
    with

    {% if files is not none and sample_lines is none -%}
    numbered_lines as (
        {%- for file in files %}
        select
            filename as source_file,
            ordinality as source_line_number,
            raw_line
        from {{ read_raw_csv_as_lines(sql_string_literal(file)) }} with ordinality
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- else %}
        select
            cast(null as varchar) as source_file,
            cast(null as bigint) as source_line_number,
            cast(null as varchar) as raw_line
        where false
        {%- endfor %}
    ),

    {{ raw_csv_header_lines() }}
    {%- else -%}
    physical_lines as (
        -- the reader returns each file's lines in order, one file after the
        -- other, so a line's number is its scan position less its file's first
        select
            filename as source_file,
            ordinality as scan_position,
            raw_line
        from {{ read_raw_csv_as_lines(location) }} with ordinality
        {%- if sample_lines is not none %}
            limit {{ sample_lines }}
        {%- endif %}
    ),

    file_starts as (
        select
            source_file,
            min(scan_position) as first_scan_position
        from physical_lines
        group by source_file
    ),

    numbered_lines as (
        -- (a join with the small per-file table, not a window over every line)
        select
            physical_lines.source_file,
            physical_lines.scan_position - file_starts.first_scan_position + 1 as source_line_number,
            physical_lines.raw_line
        from physical_lines
        inner join file_starts
            on physical_lines.source_file = file_starts.source_file
    ),

    header_lines as (
        -- (the header lines are found apart, from the per-file table, so that
        -- numbered_lines is read once and never held in memory whole)
        select
            physical_lines.source_file,
            physical_lines.raw_line as header_line
        from physical_lines
        inner join file_starts
            on
                physical_lines.source_file = file_starts.source_file
                and physical_lines.scan_position = file_starts.first_scan_position
    ),
    {%- endif %}

    {{ raw_csv_lines_by_header(required_columns) }}
{% endmacro %}


{#- raw_header_name(name): SQL, a field of a CSV header line as the readers
    compare it with the Online Retail column names: a byte order mark
    removed, spaces trimmed (trim_spaces), lower case. One rule for the
    line-exact reader's header check and the survey's choice of the native
    reader (raw_file_reads_natively). -#}
{% macro raw_header_name(name) -%}
    {{- return("lower(" ~ trim_spaces("replace(" ~ name ~ ", " ~ unicode_character(65279) ~ ", '')") ~ ")") -}}
{%- endmacro %}


{#- raw_csv_header_lines(): the CTE header_lines (source_file,
    header_line) taken from numbered_lines: line 1 of each file. For an
    engine whose numbered_lines may be read twice (Spark, DuckDB's per-file
    reads); DuckDB's single read finds the header lines apart. -#}
{% macro raw_csv_header_lines() %}
    header_lines as (
        select
            source_file,
            raw_line as header_line
        from numbered_lines
        where source_line_number = 1
    ),
{%- endmacro %}


{#-
    raw_csv_lines_by_header(required_columns)

    The rest of read_raw_csv_lines_exactly, the same on every engine: CTEs
    after the engine's `numbered_lines` (source_file, source_line_number,
    raw_line) and `header_lines` (source_file, header_line), then the final
    select. Each line is split into fields (a plain split when it has no
    quote, else a regex that honours quoting, with the quotes removed and ""
    read as "); the header's names are matched case-insensitively (a
    byte-order mark dropped); a header that lacks a required column stops
    the query with a message naming the file and, when the header reads as
    one field, the separator it seems to use; line_error is blank_line,
    malformed_quoting or wrong_field_count.
-#}
{% macro raw_csv_lines_by_header(required_columns) %}
    {%- set dialect = raw_csv_dialect() -%}
    {%- set delimiter_shown = dialect.delimiter_shown -%}
    {%- set required_names = [] -%}
    {%- for name in online_retail_column_names() -%}
        {%- do required_names.append(sql_string_literal(name)) -%}
    {%- endfor -%}
    {%- set header_message -%}
        'Raw file ' || source_file || ': the header (line 1) lacks the column'
        || case when {{ array_length('missing_names') }} > 1 then 's ' else ' ' end
        || {{ join_array('missing_names', ', ') }} || '; it reads ['
        || coalesce(left(replace(header_line, chr(9), {{ sql_string_literal('\\t') }}), 300), '') || ']. '
        || case
            when likely_delimiter is not null
                then {{ sql_string_literal("The file looks separated by '") }} || likely_delimiter
                || {{ sql_string_literal("', not by '" ~ delimiter_shown ~ "': run with --vars '{raw_csv_delimiter: \"") }}
                || likely_delimiter || {{ sql_string_literal("\"}'. ") }}
            else {{ sql_string_literal(
                "Every file needs the columns InvoiceNo, StockCode, Description, Quantity, InvoiceDate, "
                ~ "UnitPrice, CustomerID and Country (any order, any case; others are ignored): fix the "
                ~ "export, or set the dbt var raw_csv_delimiter if it is separated by another character "
                ~ "than '" ~ delimiter_shown ~ "'. ") }}
        end
        || 'The build stops here; the last publication stays as it is.'
    {%- endset -%}
    split_lines as (
        select
            source_file,
            source_line_number,
            raw_line,
            raw_line is null or {{ regexp_is_full_match('raw_line', '\\s*') }} as is_blank,
            {{ raw_line_has_malformed_quoting('raw_line') }} as has_malformed_quoting,
            {{ raw_csv_fields('raw_line') }} as fields
        from numbered_lines
        where source_line_number > 1
    ),

    file_headers as (
        select
            source_file,
            header_line,
            {{ transform_array(raw_csv_fields('header_line'), 'name', raw_header_name('name')) }} as header_names
        from header_lines
    ),

    header_positions as (
        select
            source_file,
            header_line,
            header_names,
            {%- for raw_name, column_name in required_columns %}
            cast({{ array_position_or_null('header_names', sql_string_literal(raw_name)) }} as integer) as {{ column_name }}_position,
            {%- endfor %}
            {{ filter_array(array_of(required_names), 'name', 'not ' ~ array_contains_value('header_names', 'lower(name)')) }} as missing_names,
            -- the separator that a header read as one field seems to use instead
            case
                when {{ array_length('header_names') }} > 1 then null
                {%- for character, shown in [(';', ';'), ('\t', '\\t'), ('|', '|'), (',', ',')] if shown != delimiter_shown %}
                when {{ array_length(split_to_array('header_line', character)) }} >= {{ required_columns | length }}
                    then {{ sql_string_literal(shown) }}
                {%- endfor %}
            end as likely_delimiter
        from file_headers
    ),

    checked_headers as (
        select
            source_file,
            case
                when {{ array_length('missing_names') }} > 0
                    then {{ raise_error(header_message) }}
                else {{ array_length('header_names') }}
            end as header_field_count,
            {%- for raw_name, column_name in required_columns %}
            {{ column_name }}_position{{ "," if not loop.last }}
            {%- endfor %}
        from header_positions
    ),

    final as (
        select
            split_lines.source_file,
            split_lines.source_line_number,
            split_lines.raw_line,
            case
                when split_lines.is_blank then 'blank_line'
                when split_lines.has_malformed_quoting then 'malformed_quoting'
                when {{ array_length('split_lines.fields') }} != checked_headers.header_field_count then 'wrong_field_count'
            end as line_error,
            {%- for raw_name, column_name in required_columns %}
            {{ array_element('split_lines.fields', 'checked_headers.' ~ column_name ~ '_position') }} as {{ column_name }}{{ "," if not loop.last }}
            {%- endfor %}
        from split_lines
        inner join checked_headers
            on split_lines.source_file = checked_headers.source_file
    )

    select * from final
{% endmacro %}


{#-
    read_raw_parquet_rows(location, required_columns, sample_lines=none)

    The Parquet reader of read_raw_transaction_lines: one row per Parquet
    row, every column as text.
-#}
{% macro read_raw_parquet_rows(location, required_columns, sample_lines=none) %}
    with

    parquet_rows as (
        {{- raw_parquet_rows_as_text(location, required_columns, sample_lines) }}
    ),

    typed_values_as_text as (
        -- typed columns written the way a CSV export writes them: a NaN
        -- number is empty, an ISO date or timestamp is 'YYYY-MM-DD HH:MM:SS'
        -- (a time-zone offset is applied, giving UTC); other text is kept
        select
            source_file,
            source_line_number,
            {%- for raw_name, column_name in required_columns %}
            {%- if column_name in ['quantity', 'unit_price', 'customer_id'] %}
            case when lower({{ column_name }}) = 'nan' then null else {{ column_name }} end as {{ column_name }}
            {%- elif column_name == 'invoice_date' %}
            {{ raw_iso_timestamp_as_text(column_name) }} as {{ column_name }}
            {%- else %}
            {{ column_name }}
            {%- endif %}{{ "," if not loop.last }}
            {%- endfor %}
        from parquet_rows
    ),

    final as (
        select
            source_file,
            source_line_number,
            concat_ws(',', {% for raw_name, column_name in required_columns %}{{ column_name }}{% if not loop.last %}, {% endif %}{% endfor %}) as raw_line,
            cast(null as {{ dbt.type_string() }}) as line_error,
            {%- for raw_name, column_name in required_columns %}
            {{ column_name }}{{ "," if not loop.last }}
            {%- endfor %}
        from typed_values_as_text
    )

    select * from final
{% endmacro %}

{#- The rows of the Parquet files, every required column cast to text, with
    source_file and source_line_number (the row's position in its file, from 1). -#}
{% macro raw_parquet_rows_as_text(location, required_columns, sample_lines=none) %}
    {{- return(adapter.dispatch('raw_parquet_rows_as_text')(location, required_columns, sample_lines)) -}}
{% endmacro %}

{% macro spark__raw_parquet_rows_as_text(location, required_columns, sample_lines=none) %}
        select
            raw_parquet_source_file as source_file,
            raw_parquet_row_index + 1 as source_line_number,
            {%- for raw_name, column_name in required_columns %}
            cast({{ raw_name }} as string) as {{ column_name }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ spark__raw_parquet_file_rows(location) }} as file_rows
        {%- if sample_lines is not none %}
            limit {{ sample_lines }}
        {%- endif %}
{% endmacro %}

{% macro duckdb__raw_parquet_rows_as_text(location, required_columns, sample_lines=none) %}
        select
            filename as source_file,
            file_row_number + 1 as source_line_number,
            {%- for raw_name, column_name in required_columns %}
            cast({{ raw_name }} as varchar) as {{ column_name }}{{ "," if not loop.last }}
            {%- endfor %}
        from read_parquet({{ location }}, filename = true, file_row_number = true, union_by_name = true)
        {%- if sample_lines is not none %}
            limit {{ sample_lines }}
        {%- endif %}
{% endmacro %}

{#- A date or timestamp printed as text (ISO, with optional fractional
    seconds and an optional time-zone offset) written 'YYYY-MM-DD HH:MM:SS',
    an offset converted to UTC; any other text kept as it is. -#}
{% macro raw_iso_timestamp_as_text(column) %}
    {%- set iso_timestamp = '\\d{4}-\\d{2}-\\d{2}(?:[ T]\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?)?' -%}
    {%- set utc_offset = '(?:[+-]\\d{2}(?::?\\d{2})?|Z)' -%}
    {{- return(adapter.dispatch('raw_iso_timestamp_as_text')(column, iso_timestamp, utc_offset)) -}}
{% endmacro %}




{#-
    read_raw_transaction_lines_natively(source_relation, files)

    The fast path: `files` read by the engine's own reader, with the same
    columns as read_raw_transaction_lines. Parquet is read that way always.
    A CSV file is read that way only when its survey found its header to be
    the eight columns in the Online Retail order and no line with malformed
    quoting (raw_file_reads_natively); otherwise the line-exact reader reads
    it. A CSV file this reader does not account for line by line is read
    again by the line-exact reader after the write
    (reread_files_the_native_reader_missed).
    `typed` (raw_parquet_is_typed): the Parquet columns Quantity, UnitPrice
    and InvoiceDate are read with their own types (see
    read_raw_parquet_typed), never through text.
-#}
{% macro read_raw_transaction_lines_natively(source_relation, files, typed=false) %}
    {%- set location = source_relation.render() -%}
    {%- set read_location = raw_files_location(source_relation, files) -%}
    {%- if raw_location_is_parquet(location) and typed -%}
        {{ read_raw_parquet_typed(read_location, raw_transaction_columns()) }}
    {%- elif raw_location_is_parquet(location) -%}
        {{ read_raw_parquet_rows(read_location, raw_transaction_columns()) }}
    {%- else -%}
        {{ read_raw_csv_natively(source_relation, files, raw_transaction_columns()) }}
    {%- endif -%}
{% endmacro %}


{#-
    read_raw_csv_natively(source_relation, files, required_columns)

    `files` (paths of the source `source_relation`) read by DuckDB's CSV
    reader with the eight columns named and typed as text (no sniffing),
    strict about quoting (raw_csv_native_read). A line the reader cannot
    read is left out and recorded in the temporary rejects tables
    raw_write_errors / raw_write_scans (native_write_rejects), from which
    reread_files_the_native_reader_missed finds the files to read again
    line-exactly. A line's number is its row's position in its file plus
    the header line.
-#}
{% macro read_raw_csv_natively(source_relation, files, required_columns) %}
    {{- return(adapter.dispatch('read_raw_csv_natively')(source_relation, files, required_columns)) -}}
{% endmacro %}

{#- Spark: never planned there (native_csv_reader_not_on_spark) -#}
{% macro spark__read_raw_csv_natively(source_relation, files, required_columns) %}
    {{- return(native_csv_reader_not_on_spark()) -}}
{% endmacro %}

{#- DuckDB: one read per file, `with ordinality` numbering its rows, under
    UNION ALL. `with ordinality` numbers a read's rows in one thread, but the
    reads of different files run on different threads, and a file's row
    numbers need no step across files. The CTE is materialized: without it,
    the write's sink takes each file's read apart and the write is slower.
    10.8M lines of the bench (305 files, 2 threads), the typed lines in one
    CREATE TABLE: 12.7 and 12.9 s, against 16.6 and 15.9 s for one read of
    every file numbered from its first scan position. -#}
{% macro duckdb__read_raw_csv_natively(source_relation, files, required_columns) %}
    {%- set names = online_retail_column_names() -%}
    with

    native_rows as materialized (
        {%- for file in files %}
        select
            filename as source_file,
            ordinality + 1 as source_line_number,
            cast(null as varchar) as raw_line,
            cast(null as varchar) as line_error,
            {%- for raw_name, column_name in required_columns %}
            "{{ names[loop.index0] }}" as {{ column_name }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ duckdb__raw_csv_native_read(raw_files_location(source_relation, [file]), rejects=native_write_rejects()) }} with ordinality
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    )

    select * from native_rows
{% endmacro %}

{#-
    duckdb__raw_csv_native_read(location, rejects=none)

    The DuckDB table function of the native CSV reader, with `filename`: the
    columns named and typed as text, no sniffing, strict about quoting and
    the number of fields. One home for its options. `rejects`, when given,
    is a pair of table names: lines the reader rejects are then left out
    and recorded there (the write: native_write_rejects); without it a
    rejected line stops the read.
-#}
{% macro duckdb__raw_csv_native_read(location, rejects=none) %}
    read_csv(
        {{ location }},
        columns = { {%- for name in online_retail_column_names() %}'{{ name }}': 'VARCHAR'{{ ", " if not loop.last }}{% endfor -%} },
        header = true,
        auto_detect = false,
        delim = {{ sql_string_literal(var('raw_csv_delimiter')) }},
        quote = '"',
        escape = '"',
        strict_mode = true,
        null_padding = false,
        filename = true,
        {{- duckdb__read_csv_rejects_options(rejects) }}
        encoding = '{{ var("raw_encoding") }}'
    )
{% endmacro %}


{#- A reader's columns with no row: the read of an empty list of files. -#}
{% macro no_raw_lines() %}
    select
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as bigint) as source_line_number,
        cast(null as {{ dbt.type_string() }}) as raw_line,
        cast(null as {{ dbt.type_string() }}) as line_error,
        {%- for raw_name, column_name in raw_transaction_columns() %}
        cast(null as {{ dbt.type_string() }}) as {{ column_name }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
{% endmacro %}

{#- Spark: casting a timestamp text with an offset to TIMESTAMP converts it to
    the session's time zone, UTC in the spark target -#}
{% macro spark__raw_iso_timestamp_as_text(column, iso_timestamp, utc_offset) %}
    case
        when {{ regexp_is_full_match(column, iso_timestamp ~ '(?:' ~ utc_offset ~ ')?') }}
            then coalesce(
                date_format(try_cast(replace({{ column }}, 'T', ' ') as timestamp), 'yyyy-MM-dd HH:mm:ss'),
                {{ column }}
            )
        else {{ column }}
    end
{% endmacro %}

{% macro duckdb__raw_iso_timestamp_as_text(column, iso_timestamp, utc_offset) %}
    case
        when regexp_full_match({{ column }}, '{{ iso_timestamp }}{{ utc_offset }}')
            then coalesce(
                strftime(
                    timezone('UTC', try_cast(replace({{ column }}, 'T', ' ') as timestamptz)),
                    '%Y-%m-%d %H:%M:%S'
                ),
                {{ column }}
            )
        when regexp_full_match({{ column }}, '{{ iso_timestamp }}')
            then coalesce(
                strftime(try_cast(replace({{ column }}, 'T', ' ') as timestamp), '%Y-%m-%d %H:%M:%S'),
                {{ column }}
            )
        else {{ column }}
    end
{% endmacro %}
