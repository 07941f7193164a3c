{#-
    Warns (the build goes on) about every raw file that holds no transaction
    line: empty, or only a header. Such a file usually means an export that
    failed or is still being written; nothing of it is lost, because there
    is nothing in it, but you may want to re-export it.
-#}
{{ config(severity='warn') }}

with

source_file_loads as (
    select
        source_file,
        lines_read
    from {{ ref('source_file_loads') }}
),

final as (
    select
        source_file,
        'holds no transaction line (empty, or only a header)' as problem
    from source_file_loads
    where lines_read = 0
)

select * from final
