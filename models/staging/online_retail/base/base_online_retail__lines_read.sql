{#-
    Every line read from the raw files with the reason it cannot be staged
    (null when it can): the reasons found while parsing
    (base_online_retail__lines_parsed) and `duplicate_line` for the exact
    duplicates (base_online_retail__duplicate_lines). Staging and
    transaction_rejects both read this one relation, so each line lands in
    exactly one of them. A view: the lines are stored once, in
    base_online_retail__lines_parsed.
-#}
{{ config(materialized='view') }}

with

lines_parsed as (
    select * from {{ ref('base_online_retail__lines_parsed') }}
),

duplicate_lines as (
    select * from {{ ref('base_online_retail__duplicate_lines') }}
),

final as (
    select
        lines_parsed.source_file,
        lines_parsed.source_line_number,
        lines_parsed.raw_line,
        lines_parsed.invoice_no,
        lines_parsed.stock_code,
        lines_parsed.description,
        lines_parsed.customer_id,
        lines_parsed.country,
        lines_parsed.quantity,
        lines_parsed.unit_price,
        lines_parsed.invoiced_at,
        coalesce(
            lines_parsed.reject_reason,
            case when duplicate_lines.source_file is not null then 'duplicate_line' end
        ) as reject_reason,
        duplicate_lines.duplicate_of_line_id,
        lines_parsed.loaded_at,
        lines_parsed.read_by
    from lines_parsed
    left join duplicate_lines
        on
            lines_parsed.source_file = duplicate_lines.source_file
            and lines_parsed.source_line_number = duplicate_lines.source_line_number
)

select * from final
