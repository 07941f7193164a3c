{#- One row per raw file: lines read (counted independently of the parser),
    lines staged and lines rejected, by reason. Incremental like the lines
    it accounts for: a run adds the files it loaded. -#}
{{ config(materialized='incremental', incremental_strategy='append') }}

{%- set files_to_count = raw_files_to_load(source('online_retail', 'transaction_files')) %}

with

raw_line_counts as (
    {%- if is_incremental() and files_to_count | length == 0 %}
    select
        source_file,
        lines_read
    from {{ this }}
    where false
    {%- else %}
    {{ count_raw_lines_per_file(
        source('online_retail', 'transaction_files'),
        files_to_count if is_incremental() else none
    ) }}
    {%- endif %}
),

lines_read as (
    select
        source_file,
        reject_reason
    from {{ ref('base_online_retail__lines_read') }}
    where source_file in (select raw_line_counts.source_file from raw_line_counts)
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
