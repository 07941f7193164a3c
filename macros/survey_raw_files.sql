{#-
    raw_files_to_survey(source_relation, surveyed_relation)

    The raw files this run must read: every file the `raw_transactions` glob
    matches whose content is new or changed since it was surveyed (compared
    with `surveyed_relation`, base_online_retail__raw_files, on an
    incremental run; all files otherwise). What identifies a file's content
    is its `file_fingerprint` (raw_file_attributes). Leaves the attributes of
    every matched file in the temporary table `raw_file_attributes`, for the
    model to record. An empty list while dbt only parses or compiles.
-#}
{% macro raw_files_to_survey(source_relation, surveyed_relation) %}
    {%- if not (execute and flags.WHICH in ('run', 'build')) -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set location = source_relation.render() -%}
    {%- if count_files_matching(location) == 0 -%}
        {%- do check_raw_transactions_location(location, []) -%}
    {%- endif -%}
    {%- do run_query(create_temporary_table_as('raw_file_attributes', raw_file_attributes(location))) -%}
    {%- set listing -%}
        select attributes.source_file
        from raw_file_attributes as attributes
        {%- if is_incremental() and raw_files_surveyed_incrementally() %}
            left join {{ surveyed_relation }} as surveyed
                on attributes.source_file = surveyed.source_file
            where surveyed.file_fingerprint is distinct from attributes.file_fingerprint
        {%- endif %}
        order by attributes.source_file
    {%- endset -%}
    {{ return(run_query(listing).columns[0].values() | list) }}
{% endmacro %}


{#-
    raw_files_surveyed_incrementally()

    True where base_online_retail__raw_files can replace the rows of the
    changed files only (its incremental strategy,
    strategy_replacing_rows_by_key, keeps the other rows), so a run surveys
    only new or changed files. Spark: false, its Parquet tables are
    replaced whole (insert_overwrite), so every run surveys every file and
    reloads them all.
-#}
{% macro raw_files_surveyed_incrementally() %}
    {{- return(adapter.dispatch('raw_files_surveyed_incrementally')()) -}}
{% endmacro %}

{% macro default__raw_files_surveyed_incrementally() %}
    {{- return(true) -}}
{% endmacro %}

{% macro spark__raw_files_surveyed_incrementally() %}
    {{- return(false) -}}
{% endmacro %}


{#-
    raw_file_attributes(location)

    One row per file of `location` (a glob, as SQL) with what can be known
    without reading it through: source_file, file_size, file_modified_at,
    header_line (the first line), gzip_size (the uncompressed size modulo
    2**32 from a .gz file's trailer) and file_fingerprint, which identifies
    the content: size, CRC-32 and uncompressed size for a .gz file (whose
    trailer holds a checksum of the whole content), size and modification
    time for other files.
-#}
{% macro raw_file_attributes(location) %}
    {{- return(adapter.dispatch('raw_file_attributes')(location)) -}}
{% endmacro %}

{#- Spark: from the binaryFile source (its content is read for the last
    eight bytes of a .gz file only: the gzip trailer's CRC-32 and size, little
    endian). header_line is left null: Spark reads every file with the
    line-exact reader, which checks the header itself. -#}
{% macro spark__raw_file_attributes(location) %}
    with

    blobs as (
        select
            {{ raw_file_path('path') }} as source_file,
            length as file_size,
            cast(modificationTime as timestamp) as file_modified_at,
            case when lower(path) like '%.gz' and length >= 18 then hex(substring(content, -4, 4)) end as size_hex,
            case when lower(path) like '%.gz' and length >= 18 then hex(substring(content, -8, 4)) end as crc_hex
        from binaryFile.`{{ location.strip("'") }}`
    )

    select
        source_file,
        file_size,
        file_modified_at,
        cast(null as string) as header_line,
        {{ spark__uint32_from_little_endian_hex('size_hex') }} as gzip_size,
        md5(
            case
                when crc_hex is not null
                    then concat_ws('|', 'gzip', cast(file_size as string), crc_hex, size_hex)
                else concat_ws(
                    '|', 'file', cast(file_size as string), date_format(file_modified_at, 'yyyy-MM-dd HH:mm:ss.SSSSSS')
                )
            end
        ) as file_fingerprint
    from blobs
{% endmacro %}

{#- Spark: the unsigned 32-bit number whose four little-endian bytes the
    column `hex_column` holds as hex (a gzip trailer's size, a Parquet
    footer's length), as BIGINT -#}
{% macro spark__uint32_from_little_endian_hex(hex_column) %}
    cast(conv(
        concat(substr({{ hex_column }}, 7, 2), substr({{ hex_column }}, 5, 2), substr({{ hex_column }}, 3, 2), substr({{ hex_column }}, 1, 2)),
        16, 10
    ) as bigint)
{%- endmacro %}

{% macro duckdb__raw_file_attributes(location) %}
    with

    blobs as (
        -- read_blob reads no content when only these columns are selected
        select
            filename as source_file,
            size as file_size,
            cast(last_modified as timestamp) as file_modified_at
        from read_blob({{ location }})
    ),

    facts as (
        -- one call of the plugin function for every file (see files_facts)
        select unnest(
            raw_files_facts(list(source_file), '{{ var("raw_encoding") }}'),
            recursive := true
        )
        from blobs
    )

    select
        blobs.source_file,
        blobs.file_size,
        blobs.file_modified_at,
        facts.header_line,
        facts.gzip_size,
        md5(
            case
                when facts.gzip_crc32 is not null
                    then concat_ws('|', 'gzip', blobs.file_size, facts.gzip_crc32, facts.gzip_size)
                else concat_ws('|', 'file', blobs.file_size, strftime(blobs.file_modified_at, '%Y-%m-%d %H:%M:%S.%f'))
            end
        ) as file_fingerprint
    from blobs
    left join facts
        on blobs.source_file = facts.source_file
{% endmacro %}


{#-
    survey_raw_files(source_relation, files)

    Reads `files` (the new or changed files) before they are parsed: one
    plain read of whole lines counts each file's data lines independently of
    the parser (the number staging must account for), and in the same pass

    - stops the build, naming the file and line, on text that is not valid in
      the `raw_encoding`;
    - stops the build, naming the file, on a cut-off or corrupt .gz file: the
      bytes read must match the uncompressed size the gzip trailer records
      (a file for which they do not, e.g. one of several gzip members, is
      decompressed once more by raw_gzip_problem, which decides);
    - counts the lines with malformed quoting, which the native CSV reader
      would read where the line-exact reader quarantines them.

    Leaves one row per file in the temporary table `raw_file_survey`
    (source_file, lines_read, malformed_quoting_lines). Parquet files are
    counted from their metadata and checked for the required columns.
    Whether the native reader accounted for every line of a file is known
    only from the write (base_online_retail__lines_parsed), which reads it
    once: see reread_files_the_native_reader_missed.
-#}
{% macro survey_raw_files(source_relation, files) %}
    {%- set location = source_relation.render() -%}
    {%- set read_location = raw_files_location(source_relation, files) -%}
    {%- if files | length == 0 or not (execute and flags.WHICH in ('run', 'build')) -%}
        {%- do run_query(create_temporary_table_as('raw_file_survey',
            "select cast(null as " ~ dbt.type_string() ~ ") as source_file, cast(null as bigint) as lines_read, "
            ~ "cast(null as bigint) as malformed_quoting_lines where false"
        )) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if raw_location_is_parquet(location) -%}
        {%- do check_raw_parquet_columns(read_location, raw_transaction_columns()) -%}
        {%- do run_query(create_temporary_table_as('raw_file_survey', count_raw_parquet_rows_per_file(read_location))) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- do run_query('drop table if exists raw_survey_errors') -%}
    {%- do run_query('drop table if exists raw_survey_scans') -%}
    {%- do run_query(create_temporary_table_as('raw_file_counts', count_raw_lines_per_file(read_location))) -%}
    {%- do _stop_on_undecodable_lines() -%}
    {%- do _stop_on_cut_off_gzip_files(read_location) -%}
    {%- do run_query(create_temporary_table_as('raw_file_survey',
        "select files.source_file, coalesce(counts.physical_lines - 1, 0) as lines_read, "
        ~ "coalesce(counts.malformed_quoting_lines, 0) as malformed_quoting_lines "
        ~ "from (select " ~ explode_array(read_location) ~ " as source_file) as files "
        ~ "left join raw_file_counts as counts on files.source_file = counts.source_file"
    )) -%}
{% endmacro %}


{#-
    count_raw_lines_per_file(location)

    Per CSV file of `location` (a list literal): physical_lines, line_bytes
    (the bytes of the lines' text, line breaks not included) and
    malformed_quoting_lines, from one plain read of whole lines that does no
    parsing (read_raw_csv_as_lines). Lines that cannot be decoded are left
    out of the counts and recorded in the temporary tables
    `raw_survey_errors` / `raw_survey_scans`. Files with no line at all have
    no row.
-#}
{% macro count_raw_lines_per_file(location) %}
    {{- return(adapter.dispatch('count_raw_lines_per_file')(location)) -}}
{% endmacro %}

{#- Spark: the text source returns undecodable bytes as they are, so the
    lines that are not valid text are found by is_valid_utf8 (UTF-8) and
    recorded, with their line numbers, in temporary views shaped like
    DuckDB's rejects tables (raw_survey_errors: a second read, cached). -#}
{% macro spark__count_raw_lines_per_file(location) %}
    {%- if execute -%}
        {%- do run_query(create_temporary_table_as('raw_survey_errors',
            "select 0 as scan_id, source_file as file_id, source_line_number as line, "
            ~ "'INVALID ENCODING' as error_type, 'not valid UTF-8' as error_message from ("
            ~ "select filename as source_file, is_decodable, row_number() over ("
            ~ "partition by filename order by block_start, scan_order) as source_line_number "
            ~ "from " ~ read_raw_csv_as_lines(location) ~ " as raw_lines) as numbered "
            ~ "where not is_decodable"
        )) -%}
        {%- do run_query(
            "create or replace temporary view raw_survey_scans as "
            ~ "select 0 as scan_id, file_path as file_id, file_path from (select explode("
            ~ (location if not location.startswith("'") else "array(" ~ location ~ ")") ~ ") as file_path) as files"
        ) -%}
    {%- endif -%}
    select
        filename as source_file,
        count_if(is_decodable) as physical_lines,
        sum(case when is_decodable then line_bytes else 0 end) as line_bytes,
        count_if(is_decodable and {{ raw_line_has_malformed_quoting('raw_line') }}) as malformed_quoting_lines
    from {{ read_raw_csv_as_lines(location) }} as raw_lines
    group by filename
{% endmacro %}

{% macro duckdb__count_raw_lines_per_file(location) %}
    {#- latin-1 text is one byte a character in the file, UTF-8 once read -#}
    {%- set text_bytes = 'length' if var('raw_encoding') | lower in ('latin-1', 'latin1', 'iso-8859-1') else 'strlen' -%}
    select
        filename as source_file,
        count(*) as physical_lines,
        sum({{ text_bytes }}(coalesce(raw_line, ''))) as line_bytes,
        count(*) filter (where {{ raw_line_has_malformed_quoting('raw_line') }}) as malformed_quoting_lines
    from {{ read_raw_csv_as_lines(location, rejects=('raw_survey_errors', 'raw_survey_scans')) }}
    group by filename
{% endmacro %}


{#- Per Parquet file: its row count, from the files' metadata. -#}
{% macro count_raw_parquet_rows_per_file(location) %}
    {{- return(adapter.dispatch('count_raw_parquet_rows_per_file')(location)) -}}
{% endmacro %}

{#- Spark: the rows Spark's Parquet source reads per file (a file of no
    row counts 0) -#}
{% macro spark__count_raw_parquet_rows_per_file(location) %}
    select
        files.source_file,
        coalesce(counts.rows_read, 0) as lines_read,
        cast(0 as bigint) as malformed_quoting_lines
    from (select {{ explode_array(location) }} as source_file) as files
    left join (
        select
            raw_parquet_source_file as source_file,
            count(*) as rows_read
        from {{ spark__raw_parquet_file_rows(location) }} as file_rows
        group by raw_parquet_source_file
    ) as counts
        on files.source_file = counts.source_file
{% endmacro %}

{% macro duckdb__count_raw_parquet_rows_per_file(location) %}
    select
        file_name as source_file,
        cast(num_rows as bigint) as lines_read,
        cast(0 as bigint) as malformed_quoting_lines
    from parquet_file_metadata({{ location }})
{% endmacro %}


{% macro _stop_on_undecodable_lines() %}
    {%- set encoding = var('raw_encoding') -%}
    {%- set problems = run_query(
        "with problems as ("
        ~ "select scans.file_path, errors.line, errors.error_type, errors.error_message "
        ~ "from raw_survey_errors as errors "
        ~ "inner join raw_survey_scans as scans using (scan_id, file_id)), "
        ~ "extent as (select count(*) as lines, count(distinct file_path) as files from problems) "
        ~ "select problems.file_path, problems.line, problems.error_type, problems.error_message, "
        ~ "extent.lines, extent.files from problems cross join extent "
        ~ "order by problems.file_path, problems.line limit 3"
    ) -%}
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


{#- A cut-off .gz file is read up to the cut without an error. The bytes the
    survey read (text plus one or two line-break bytes a line, the last line
    with or without one; plus the 3 bytes of a UTF-8 byte order mark, which
    both engines' readers leave out of the first line) must give the size
    the gzip trailer records; a file where they do not is decompressed by
    raw_gzip_problem (python_jobs/raw_files, registered by the dbt-duckdb
    plugin), which names what is wrong, or finds the file whole (several
    gzip members). -#}
{% macro _stop_on_cut_off_gzip_files(location) %}
    {%- set sizes = [] -%}
    {%- for byte_order_mark in [0, 3] -%}
        {%- for line_breaks in ['coalesce(counts.physical_lines, 0)', '2 * coalesce(counts.physical_lines, 0)'] -%}
            {%- for unterminated_last_line in [0, 1] -%}
                {%- do sizes.append(
                    "(coalesce(counts.line_bytes, 0) + " ~ line_breaks ~ " + "
                    ~ (byte_order_mark - unterminated_last_line) ~ ") % 4294967296"
                ) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set problems = run_query(
        "with doubtful as ("
        ~ "select files.source_file from (select " ~ explode_array(location) ~ " as source_file) as files "
        ~ "inner join raw_file_attributes as attributes on files.source_file = attributes.source_file "
        ~ "left join raw_file_counts as counts on files.source_file = counts.source_file "
        ~ "where lower(files.source_file) like '%.gz' and ("
        ~ "attributes.gzip_size is null or attributes.gzip_size not in ("
        ~ sizes | join(", ")
        ~ "))) "
        ~ "select source_file, problem from ("
        ~ "select source_file, " ~ gzip_file_problem('source_file') ~ " as problem from doubtful) "
        ~ "where problem is not null order by source_file"
    ) -%}
    {%- if problems.rows | length > 0 -%}
        {%- set first = problems.rows[0] -%}
        {%- set others = [] -%}
        {%- for row in problems.rows[1:] -%}
            {%- do others.append(row[0]) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ first[0] ~ " is not a whole gzip file: " ~ first[1] ~ "."
            ~ (" Also: " ~ others[:2] | join(", ") ~ "." if others else "")
            ~ " Reading it would lose the lines after the damage without a trace, so the build stops here; "
            ~ "the last publication stays as it is. Copy or export the file again (`gzip -t <file>` checks it), "
            ~ "or move it out of the raw_transactions folder."
        ) }}
    {%- endif -%}
{% endmacro %}


{#- gzip_file_problem(source_file): SQL, what is wrong with the .gz file
    named in `source_file` whose text does not add up to the size its gzip
    trailer records, or null when the file is whole after all. -#}
{% macro gzip_file_problem(source_file) %}
    {{- return(adapter.dispatch('gzip_file_problem')(source_file)) -}}
{% endmacro %}

{#- DuckDB: decompressed once more by raw_gzip_problem (python_jobs/raw_files,
    registered by the dbt-duckdb plugin), which tells a cut-off file from one
    of several gzip members -#}
{% macro duckdb__gzip_file_problem(source_file) %}
    {{- return('raw_gzip_problem(' ~ source_file ~ ')') -}}
{% endmacro %}

{#- Spark: its reader stops on a file cut off inside the compressed data
    (FAILED_READ_FILE, naming the file); a file that reads but does not add
    up is reported as it is (a file of several gzip members, which DuckDB
    accepts, is reported too: recompress it as one member) -#}
{% macro spark__gzip_file_problem(source_file) %}
    {{- return(
        "'its text does not add up to the uncompressed size its gzip trailer records "
        ~ "(cut off, corrupt, or several gzip members: `gzip -t` checks it; recompress it whole)'"
    ) -}}
{% endmacro %}
