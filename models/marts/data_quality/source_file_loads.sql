{#- One row per raw file: lines read (counted independently of the parser,
    by the survey in base_online_retail__raw_files), lines staged and lines
    rejected, how the file was read, and its loads. The staged and rejected
    lines are counted in the two tables that hold them, staging and
    transaction_rejects, so that the accounting tested on this model
    (lines_read = lines_staged + lines_rejected) covers what users read, not
    an earlier step: a line lost or repeated by either model changes the
    count. Rebuilt each run from the file rows, the staged and rejected
    lines, and the reader recorded on the parsed lines. -#}

with

raw_files as (
    select
        source_file,
        file_size,
        file_fingerprint,
        lines_read,
        times_loaded,
        first_loaded_at,
        loaded_at
    from {{ ref('base_online_retail__raw_files') }}
),

staged_lines as (
    select
        source_file,
        source_line_number,
        cast(null as {{ dbt.type_string() }}) as reject_reason
    from {{ ref('stg_online_retail__transaction_lines') }}
),

rejected_lines as (
    select
        source_file,
        source_line_number,
        reject_reason
    from {{ ref('transaction_rejects') }}
),

lines_accounted_for as (
    select * from staged_lines
    union all
    select * from rejected_lines
),

outcomes_per_file as (
    select
        source_file,
        count(*) filter (where reject_reason is null) as lines_staged,
        count(*) filter (where reject_reason is not null) as lines_rejected,
        count(*) filter (where reject_reason = 'duplicate_line') as lines_duplicate,
        min(source_line_number) as first_line_number,
        max(source_line_number) as last_line_number
    from lines_accounted_for
    group by source_file
),

readers_per_file as (
    {#- the reader is recorded on each line as it is parsed -#}
    select
        source_file,
        max(read_by) as read_by
    from {{ ref('base_online_retail__lines_parsed') }}
    group by source_file
),

final as (
    select
        raw_files.source_file,
        raw_files.lines_read,
        coalesce(outcomes_per_file.lines_staged, 0) as lines_staged,
        coalesce(outcomes_per_file.lines_rejected, 0) as lines_rejected,
        coalesce(outcomes_per_file.lines_duplicate, 0) as lines_duplicate,
        raw_files.lines_read = 0 as is_empty,
        outcomes_per_file.first_line_number,
        outcomes_per_file.last_line_number,
        readers_per_file.read_by,
        raw_files.file_size,
        raw_files.file_fingerprint,
        raw_files.times_loaded,
        raw_files.first_loaded_at,
        raw_files.loaded_at
    from raw_files
    left join outcomes_per_file
        on raw_files.source_file = outcomes_per_file.source_file
    left join readers_per_file
        on raw_files.source_file = readers_per_file.source_file
)

select * from final
