{#-
    Warns (the build goes on) about every raw file of which more lines were
    quarantined than staged, with its most common reject reason. The lines
    are safe in transaction_rejects, but a file that is mostly rejected
    usually means a setting does not fit it: dates in a format missing from
    raw_date_formats, or another export layout.
-#}
{{ config(severity='warn') }}

with

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
        mode(reject_reason) as main_reject_reason
    from lines_read
    group by source_file
),

final as (
    select
        source_file,
        lines_staged,
        lines_rejected,
        main_reject_reason
    from outcomes_per_file
    where lines_rejected > lines_staged
)

select * from final
