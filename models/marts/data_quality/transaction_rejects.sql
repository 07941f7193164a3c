{#- Quarantined raw lines: one row per line that could not be staged. -#}

with

lines_read as (
    select
        source_file,
        source_line_number,
        reject_reason,
        raw_line,
        duplicate_of_line_id,
        invoice_no,
        stock_code,
        customer_id,
        invoiced_at
    from {{ ref('base_online_retail__lines_read') }}
    where reject_reason is not null
),

final as (
    select
        source_file || ':' || source_line_number as transaction_line_id,
        source_file,
        source_line_number,
        reject_reason,
        raw_line,
        duplicate_of_line_id,
        invoice_no,
        stock_code,
        customer_id,
        invoiced_at
    from lines_read
)

select * from final
