{#-
    Warns (the build goes on) about every raw file of which more lines were
    quarantined than staged, with its most common reject reason. The lines
    are safe in transaction_rejects, but a file that is mostly rejected
    usually means a setting does not fit it: dates in a format missing from
    raw_date_formats, or another export layout.
-#}
{{ config(severity='warn') }}

with

-- the per-file counts, and the reasons of the few quarantined lines: no
-- pass over every line
mostly_rejected_files as (
    select
        source_file,
        lines_staged,
        lines_rejected
    from {{ ref('source_file_loads') }}
    where lines_rejected > lines_staged
),

main_reasons as (
    select
        source_file,
        mode(reject_reason) as main_reject_reason
    from {{ ref('transaction_rejects') }}
    where source_file in (select mostly_rejected_files.source_file from mostly_rejected_files)
    group by source_file
),

final as (
    select
        mostly_rejected_files.source_file,
        mostly_rejected_files.lines_staged,
        mostly_rejected_files.lines_rejected,
        main_reasons.main_reject_reason
    from mostly_rejected_files
    left join main_reasons
        on mostly_rejected_files.source_file = main_reasons.source_file
)

select * from final
