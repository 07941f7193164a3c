{#- One row per raw file: lines read (counted independently of the parser),
    lines staged and lines rejected, by reason. -#}

with

raw_line_counts as (
    {{ count_raw_lines_per_file(source('online_retail', 'transaction_files')) }}
),

lines_read as (
    select
        source_file,
        reject_reason
    from {{ ref('base_online_retail__lines_read') }}
),

outcomes_per_file as (
    select
        source_file,
        count(*) filter (where reject_reason is null) as lines_staged,
        count(*) filter (where reject_reason is not null) as lines_rejected,
        count(*) filter (where reject_reason = 'duplicate_line') as lines_duplicate
    from lines_read
    group by source_file
),

final as (
    select
        raw_line_counts.source_file,
        raw_line_counts.lines_read,
        coalesce(outcomes_per_file.lines_staged, 0) as lines_staged,
        coalesce(outcomes_per_file.lines_rejected, 0) as lines_rejected,
        coalesce(outcomes_per_file.lines_duplicate, 0) as lines_duplicate,
        raw_line_counts.lines_read = 0 as is_empty
    from raw_line_counts
    left join outcomes_per_file
        on raw_line_counts.source_file = outcomes_per_file.source_file
)

select * from final
