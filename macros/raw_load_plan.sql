{#-
    plan_raw_load(raw_files_relation, lines_relation)

    Which raw files base_online_retail__lines_parsed reads in this run, and
    how. A file is read when base_online_retail__raw_files records a load of
    it (a new file, or one whose content changed) that `lines_relation` does
    not hold yet; all recorded files on a full build. A file whose survey
    found the Online Retail header in its order and no line with malformed
    quoting is read by the engine's native reader (Parquet: always), the
    others by the line-exact reader.

    Leaves the plan in the temporary table `raw_load_plan` (source_file,
    lines_read, reads_natively, loaded_at: when the load was recorded) for the model's hooks, and returns
    {'files': all, 'native_files': ..., 'exact_files': ..., 'native_batches':
    the native files in the writes of raw_native_batches}, each a sorted
    list of paths; empty lists while dbt only parses or compiles.
-#}
{% macro plan_raw_load(raw_files_relation, lines_relation) %}
    {%- set empty = {'files': [], 'native_files': [], 'exact_files': [], 'native_batches': []} -%}
    {%- if not (execute and flags.WHICH in ('run', 'build')) -%}
        {{ return(empty) }}
    {%- endif -%}
    {%- set plan_query -%}
        select
            raw_files.source_file,
            raw_files.lines_read,
            raw_files.reads_natively,
            raw_files.loaded_at
        from {{ raw_files_relation }} as raw_files
        {%- if is_incremental() %}
            where not exists (
                select 1
                from (select distinct source_file, loaded_at from {{ lines_relation }}) as loaded
                where loaded.source_file = raw_files.source_file and loaded.loaded_at = raw_files.loaded_at
            )
        {%- endif %}
    {%- endset -%}
    {%- do run_query(create_temporary_table_as('raw_load_plan', plan_query)) -%}
    {%- set rows = run_query("select source_file, reads_natively from raw_load_plan order by source_file").rows -%}
    {%- set plan = {'files': [], 'native_files': [], 'exact_files': [], 'native_batches': raw_native_batches()} -%}
    {%- for source_file, reads_natively in rows -%}
        {%- do plan.files.append(source_file) -%}
        {%- do (plan.native_files if reads_natively else plan.exact_files).append(source_file) -%}
    {%- endfor -%}
    {{ return(plan) }}
{% endmacro %}


{#-
    raw_native_batches()

    The files of raw_load_plan that the native reader reads, in the writes
    that base_online_retail__lines_parsed makes of them: the model's query
    writes the first, the post-hook write_later_native_batches appends the
    others. CSV: consecutive files (in name order, a file never split) of at
    most raw_native_batch_lines() lines together (a bigger file alone).
    DuckDB holds a write's read rows in memory (the materialized CTE of
    duckdb__read_raw_csv_natively, without which the write is slower); a
    batch bounds that memory, so the write's time and memory grow with the
    lines instead of spilling past the memory_limit.
    Parquet (numbered by the reader, no such step): one batch.
    A list of lists of paths, empty when no file is read natively.
-#}
{% macro raw_native_batches() %}
    {%- set rows = run_query(
        "select source_file, lines_read from raw_load_plan where reads_natively order by source_file"
    ).rows -%}
    {%- set one_batch = raw_location_is_parquet(source('online_retail', 'transaction_files').render()) -%}
    {%- set batches = [] -%}
    {%- set lines_in_batch = namespace(count=0) -%}
    {%- for source_file, lines_read in rows -%}
        {%- if batches | length == 0
                or (not one_batch and lines_in_batch.count + (lines_read or 0) > raw_native_batch_lines()) -%}
            {%- do batches.append([]) -%}
            {%- set lines_in_batch.count = 0 -%}
        {%- endif -%}
        {%- do batches[-1].append(source_file) -%}
        {%- set lines_in_batch.count = lines_in_batch.count + (lines_read or 0) -%}
    {%- endfor -%}
    {{ return(batches) }}
{% endmacro %}


{#- The most lines of one native write of CSV files (raw_native_batches):
    the dbt var raw_native_batch_lines, 2,500,000 when not set (a test sets
    a few lines to write a small load in several batches). The bench's
    10.8M lines, in the build (2 threads, 2GB): batches of 2.5M lines wrote
    them in 10.4 s with a peak of 1.62 GB for the process tree, batches of
    5M in 10.6 s with a peak of 2.23 GB. -#}
{% macro raw_native_batch_lines() %}
    {%- set problem = raw_native_batch_lines_problem() -%}
    {%- if problem -%}
        {{ exceptions.raise_compiler_error('Invalid setting: ' ~ problem) }}
    {%- endif -%}
    {{- return(var('raw_native_batch_lines', 2500000) | int) -}}
{% endmacro %}

{#- The problem with the dbt var raw_native_batch_lines as one sentence
    ('' when it is valid), checked up front by validate_settings. -#}
{% macro raw_native_batch_lines_problem() %}
    {%- set lines = var('raw_native_batch_lines', 2500000) -%}
    {%- if lines is not number or lines is boolean or not (lines >= 1) or lines != lines | int -%}
        {{- return('the dbt var raw_native_batch_lines is ' ~ tojson(lines)
            ~ '; it must be a whole number of lines, at least 1, such as 2500000 (or leave it unset).') -}}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}


{#-
    write_later_native_batches(relation, source_relation)

    Post-hook of base_online_retail__lines_parsed, in the model's
    transaction: appends the native reader's batches after the first
    (raw_native_batches), one insert each. Returns no SQL when the load is
    one batch.
-#}
{% macro write_later_native_batches(relation, source_relation) %}
    {%- if not (execute and flags.WHICH in ('run', 'build')) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set batches = raw_native_batches() -%}
    {%- if batches | length < 2 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set date_formats = raw_load_date_formats(source_relation) -%}
    {%- for batch in batches[1:] %}
    insert into {{ relation }} by name
    {{ classify_raw_lines(
        read_raw_transaction_lines_natively(source_relation, batch),
        'native_reader',
        date_formats
    ) }};
    {%- endfor %}
{% endmacro %}


{#-
    reread_files_the_native_reader_missed(relation, source_relation)

    Post-hook of base_online_retail__lines_parsed, after the native batches
    (write_later_native_batches), in the model's transaction. A CSV file
    the native reader wrote but did not account for line by line (it
    rejected a line, recorded in native_write_rejects, or wrote other than
    one row for each data line the survey counted, as for a blank line) has
    its rows deleted and is read again by the line-exact reader, which
    quarantines each line it cannot stage with its reason and number. So
    each file is read once, and twice only when the native reader missed a
    line of it. Logs such files. Returns no SQL when there is none (always
    for Parquet, and on Spark, which reads every CSV file line-exactly).

    The check costs next to nothing when every line is accounted for: no
    rejected line, and the table grew (since prepare_native_write_check) by
    exactly the lines the survey counted in the load's files (the native
    reader's rows of a file cannot outnumber its lines, and the line-exact
    reader writes one row a line). Only otherwise are the rows counted per
    file (1.7 s at 10.8M lines).
-#}
{% macro reread_files_the_native_reader_missed(relation, source_relation) %}
    {%- if not (execute and flags.WHICH in ('run', 'build'))
            or raw_location_is_parquet(source_relation.render()) -%}
        {{ return('') }}
    {%- endif -%}
    {%- if run_query("select count(*) from raw_load_plan where reads_natively").columns[0].values()[0] == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set rejects = native_write_rejects() -%}
    {%- set totals -%}
        select
            (select count(*) from {{ relation }}) - (select row_count from raw_rows_before_write) as rows_written,
            (select coalesce(sum(lines_read), 0) from raw_load_plan) as lines_counted,
            (select count(*) from {{ rejects[0] }}) as rejected_lines
    {%- endset -%}
    {%- set total = run_query(totals).rows[0] -%}
    {%- if total[0] == total[1] and total[2] == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set missed_query -%}
        with

        planned as (
            select
                source_file,
                lines_read
            from raw_load_plan
            where reads_natively
        ),

        written as (
            select
                lines.source_file,
                count(*) as rows_written
            from {{ relation }} as lines
            inner join planned
                on lines.source_file = planned.source_file
            where lines.read_by = 'native_reader'
            group by lines.source_file
        ),

        rejected as (
            select
                scans.file_path as source_file,
                count(*) as rejected_lines
            from {{ rejects[0] }} as errors
            inner join {{ rejects[1] }} as scans
                on errors.scan_id = scans.scan_id and errors.file_id = scans.file_id
            group by scans.file_path
        )

        select planned.source_file
        from planned
        left join written
            on planned.source_file = written.source_file
        left join rejected
            on planned.source_file = rejected.source_file
        where
            coalesce(rejected.rejected_lines, 0) > 0
            or coalesce(written.rows_written, 0) != planned.lines_read
        order by planned.source_file
    {%- endset -%}
    {%- set missed = run_query(missed_query).columns[0].values() | list -%}
    {%- if missed | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {{ log('Read by the line-exact reader (the native reader could not account for every line): '
        ~ missed | length ~ ' file(s), e.g. ' ~ missed[0], info=true) }}
    {%- set literals = [] -%}
    {%- for file in missed -%}
        {%- do literals.append(sql_string_literal(file)) -%}
    {%- endfor %}
    {{ delete_rows_where(relation, 'lines', 'lines.source_file in (' ~ literals | join(', ') ~ ')') }};
    insert into {{ relation }} by name
    {{ classify_raw_lines(
        read_raw_transaction_lines(source_relation, missed),
        'line_exact_reader',
        raw_load_date_formats(source_relation)
    ) }};
{% endmacro %}


{#- native_write_rejects(): the pair of temporary tables (errors, scans) in
    which DuckDB's native CSV reader records the lines it rejects while
    base_online_retail__lines_parsed is written. -#}
{% macro native_write_rejects() %}
    {{- return(('raw_write_errors', 'raw_write_scans')) -}}
{% endmacro %}


{#-
    prepare_native_write_check(relation)

    Pre-hook of base_online_retail__lines_parsed (`relation`), after the
    lines of reloaded files are deleted: SQL that drops the rejects tables
    native_write_rejects of an earlier write in the same session and keeps
    the table's row count in the temporary table raw_rows_before_write (0
    when the build writes a new table: a first or full-refresh build), for
    reread_files_the_native_reader_missed. DuckDB only; other engines:
    nothing.
-#}
{% macro prepare_native_write_check(relation) %}
    {{- return(adapter.dispatch('prepare_native_write_check')(relation)) -}}
{% endmacro %}

{% macro default__prepare_native_write_check(relation) %}
    {{- return('') -}}
{% endmacro %}

{% macro duckdb__prepare_native_write_check(relation) %}
    {%- set rejects = native_write_rejects() -%}
    {#- a first or full-refresh build writes a new table -#}
    {%- set rows_before = 'select count(*) as row_count from ' ~ relation if is_incremental() else 'select 0 as row_count' -%}
    {{- return(
        'drop table if exists ' ~ rejects[0] ~ '; drop table if exists ' ~ rejects[1] ~ '; '
        ~ create_temporary_table_as('raw_rows_before_write', rows_before)
    ) -}}
{% endmacro %}


{#-
    drop_lines_of_reloaded_files(relation, raw_files_relation)

    Pre-hook of base_online_retail__lines_parsed on an incremental run:
    deletes the lines of every file whose recorded load is newer than the
    lines (a file that changed on disk), so that its lines are replaced by
    this run's read of it, not added to. Deletes nothing otherwise.
-#}
{% macro drop_lines_of_reloaded_files(relation, raw_files_relation) %}
    {%- if not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set reloaded -%}
        exists (
            select 1
            from {{ raw_files_relation }} as raw_files
            where raw_files.source_file = lines.source_file and raw_files.loaded_at != lines.loaded_at
        )
    {%- endset -%}
    {{- return(delete_rows_where(relation, 'lines', reloaded)) -}}
{% endmacro %}


{#-
    delete_rows_where(relation, alias, condition)

    Deletes the rows of `relation` (named `alias` in `condition`) for which
    `condition` holds. DuckDB: the SQL of a delete. Spark: Parquet tables
    have no delete, and Spark refuses an overwrite whose query reads the
    table it overwrites, so the rows to keep are copied to a scratch table
    and written back (run here, when there is a row to delete); returns no SQL.
-#}
{% macro delete_rows_where(relation, alias, condition) %}
    {{- return(adapter.dispatch('delete_rows_where')(relation, alias, condition)) -}}
{% endmacro %}

{% macro duckdb__delete_rows_where(relation, alias, condition) %}
    {{- return('delete from ' ~ relation ~ ' as ' ~ alias ~ ' where ' ~ condition) -}}
{% endmacro %}

{% macro spark__delete_rows_where(relation, alias, condition) %}
    {%- set rows_of = ' from ' ~ relation ~ ' as ' ~ alias ~ ' where ' -%}
    {%- if execute and run_query('select count(*)' ~ rows_of ~ condition).columns[0].values()[0] > 0 -%}
        {%- set kept = relation.incorporate(path={'identifier': relation.identifier ~ '__rows_kept'}) -%}
        {%- do run_query('drop table if exists ' ~ kept) -%}
        {%- do run_query('create table ' ~ kept ~ ' using parquet as select ' ~ alias ~ '.*' ~ rows_of ~ 'not coalesce(' ~ condition ~ ', false)') -%}
        {%- do run_query('insert overwrite table ' ~ relation ~ ' select * from ' ~ kept) -%}
        {%- do run_query('drop table ' ~ kept) -%}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}


{#-
    raw_load_date_formats(source_relation, files=none)

    The raw_date_formats in the order this load tries them. With `files`
    (base_online_retail__lines_parsed, when it plans the load): ranked by
    raw_date_formats_by_use over those files, and kept in the temporary
    table raw_load_date_formats for the model's hooks. Without (the hooks
    that read more of the load): the order kept, so that the sample is
    read once per load (at 10.8M lines the hooks' second ranking took
    0.36 s on the build's critical path).
-#}
{% macro raw_load_date_formats(source_relation, files=none) %}
    {%- if files is none -%}
        {{- return(run_query("select date_format from raw_load_date_formats order by position").columns[0].values() | list) -}}
    {%- endif -%}
    {%- set formats = raw_date_formats_by_use(source_relation, files) -%}
    {%- if execute and flags.WHICH in ('run', 'build') and formats | length > 0 -%}
        {%- set rows = [] -%}
        {%- for date_format in formats -%}
            {%- do rows.append('select ' ~ loop.index ~ ' as position, ' ~ sql_string_literal(date_format) ~ ' as date_format') -%}
        {%- endfor -%}
        {%- do run_query(create_temporary_table_as('raw_load_date_formats', rows | join(' union all '))) -%}
    {%- endif -%}
    {{- return(formats) -}}
{% endmacro %}


{#- The time stamp of this run's loads (`loaded_at` of base_online_retail__raw_files):
    when the dbt invocation started. -#}
{% macro raw_load_timestamp() %}
    {{- return("cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as timestamp)") -}}
{% endmacro %}


{#-
    raw_file_reads_natively(survey)

    SQL, true for a file the native reader reads first, from the columns
    of its survey (`survey`: the alias of a relation with header_line and
    malformed_quoting_lines; see survey_raw_files): a Parquet file, or a
    CSV file whose header is the eight Online Retail columns in their order
    (any case, spaces and a byte-order mark ignored) with no line of
    malformed quoting. (Spark's survey records no header line, so there it
    is false for every CSV file.) Whether the native reader then accounts
    for every line is checked after the write, by
    reread_files_the_native_reader_missed.
-#}
{% macro raw_file_reads_natively(survey) %}
    {%- if raw_location_is_parquet(source('online_retail', 'transaction_files').render()) -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for raw_name, column_name in raw_transaction_columns() -%}
        {%- do names.append("'" ~ raw_name ~ "'") -%}
    {%- endfor -%}
    {{- return(
        "coalesce(" ~ survey ~ ".malformed_quoting_lines = 0 and "
        ~ transform_array(
            split_to_array(survey ~ '.header_line', var('raw_csv_delimiter') | string),
            'name',
            raw_header_name('name')
        )
        ~ " = " ~ array_of(names) ~ ", false)"
    ) -}}
{% endmacro %}


{#-
    create_temporary_table_as(name, select_sql)

    SQL that keeps the rows of `select_sql` under `name` for the rest of the
    dbt session (the plan of a load, read by the model and its hooks).
    DuckDB: a temporary table. Spark: a temporary view, cached eagerly.
-#}
{% macro create_temporary_table_as(name, select_sql) %}
    {{- return(adapter.dispatch('create_temporary_table_as')(name, select_sql)) -}}
{% endmacro %}

{% macro duckdb__create_temporary_table_as(name, select_sql) %}
    {{- return('create or replace temporary table ' ~ name ~ ' as ' ~ select_sql) -}}
{% endmacro %}

{#- Spark: a temporary view cached eagerly (CACHE TABLE ... AS), so that the
    files or tables it reads are read once, when it is made; an earlier view
    of the name is dropped first (run here). -#}
{% macro spark__create_temporary_table_as(name, select_sql) %}
    {%- if execute -%}
        {%- do run_query('drop view if exists ' ~ name) -%}
    {%- endif -%}
    {{- return('cache table ' ~ name ~ ' as ' ~ select_sql) -}}
{% endmacro %}


{#-
    strategy_replacing_rows_by_key()

    The incremental strategy of base_online_retail__raw_files (rows replaced
    by source_file). DuckDB: delete+insert. Spark writes Parquet, which has no
    delete: insert_overwrite, which replaces the whole table; right there
    because Spark reads the one transactions_relation (every run's survey is
    the whole input), not files.
-#}
{% macro strategy_replacing_rows_by_key() %}
    {{- return(adapter.dispatch('strategy_replacing_rows_by_key')()) -}}
{% endmacro %}

{% macro duckdb__strategy_replacing_rows_by_key() %}
    {{- return('delete+insert') -}}
{% endmacro %}

{% macro spark__strategy_replacing_rows_by_key() %}
    {{- return('insert_overwrite') -}}
{% endmacro %}


{#-
    relation_read_before_overwrite(relation, columns)

    A subquery with the rows `relation` holds before this model replaces
    them: how an incremental model reads its own earlier rows (`columns`:
    name -> type). DuckDB: the relation itself. Spark: its rows read when
    the model compiles and written out as literals, because Spark refuses
    an `insert overwrite` (spark__strategy_replacing_rows_by_key) whose
    query reads the table it overwrites.
-#}
{% macro relation_read_before_overwrite(relation, columns) %}
    {{- return(adapter.dispatch('relation_read_before_overwrite')(relation, columns)) -}}
{% endmacro %}

{% macro duckdb__relation_read_before_overwrite(relation, columns) %}
    {{- return('(select ' ~ (columns.keys() | join(', ')) ~ ' from ' ~ relation ~ ')') -}}
{% endmacro %}

{% macro spark__relation_read_before_overwrite(relation, columns) %}
    {%- set names = columns.keys() | list -%}
    {%- set rows = run_query('select ' ~ (names | join(', ')) ~ ' from ' ~ relation).rows if execute else [] -%}
    {%- set selects = [] -%}
    {%- for row in rows -%}
        {%- set fields = [] -%}
        {%- for name in names -%}
            {%- set value = row[loop.index0] -%}
            {%- do fields.append('cast(' ~ ('null' if value is none else sql_string_literal(value)) ~ ' as ' ~ columns[name] ~ ') as ' ~ name) -%}
        {%- endfor -%}
        {%- do selects.append('select ' ~ (fields | join(', '))) -%}
    {%- endfor -%}
    {%- if not selects -%}
        {%- set fields = [] -%}
        {%- for name in names -%}
            {%- do fields.append('cast(null as ' ~ columns[name] ~ ') as ' ~ name) -%}
        {%- endfor -%}
        {%- do selects.append('select ' ~ (fields | join(', ')) ~ ' where false') -%}
    {%- endif -%}
    {{- return('(' ~ (selects | join(' union all ')) ~ ')') -}}
{% endmacro %}


{#-
    raw_lines_write_settings(writing)

    Hooks of base_online_retail__lines_parsed: SQL that sets how the engine
    writes the lines (`writing` true, pre-hook) and sets it back (false,
    post-hook). DuckDB: no FSST string compression while the lines are
    written (the other methods, dictionary among them, stay): at 10.8M lines
    the lines' CREATE TABLE (read, typing and write) took 27.0 s of CPU
    instead of 34.7 s (one run each, load 7 to 9), and the warehouse of the
    build up to customer_features was 199 MB instead of 203 MB. That was a
    warehouse in DuckDB 1.0's storage format; in 1.5's (profiles.yml's
    config_options) the strings are written DICT_FSST with or without it
    (the model at 10.8M lines: 13.9, 16.9, 11.7 s with it, 15.1, 13.3,
    11.7 s without), and it stays for warehouses created before. Other
    engines: nothing.
-#}
{% macro raw_lines_write_settings(writing) %}
    {{- return(adapter.dispatch('raw_lines_write_settings')(writing)) -}}
{% endmacro %}

{% macro default__raw_lines_write_settings(writing) %}
    {{- return('') -}}
{% endmacro %}

{% macro duckdb__raw_lines_write_settings(writing) %}
    {{- return("set disabled_compression_methods = 'fsst'" if writing else 'reset disabled_compression_methods') -}}
{% endmacro %}
