{#-
    Every line read from the raw files, typed where it can be, with the reason
    it cannot be staged (null when it can). Staging and transaction_rejects
    both read this one table, so each line lands in exactly one of them.
-#}
{{ config(materialized='table') }}

{%- set date_formats = [] -%}
{%- for date_format in var('raw_date_formats') -%}
    {%- do date_formats.append("'" ~ date_format ~ "'") -%}
{%- endfor %}

with

raw_lines as (
    {{ read_raw_transaction_lines(source('online_retail', 'transaction_files')) }}
),

typed_lines as (
    select
        source_file,
        source_line_number,
        raw_line,
        line_error,
        nullif(trim(invoice_no), '') as invoice_no,
        nullif(trim(stock_code), '') as stock_code,
        nullif(trim(description), '') as description,
        -- CustomerID arrives as a float ('17850.0'): keep the id as clean text
        nullif(regexp_replace(trim(customer_id), '\.0+$', ''), '') as customer_id,
        nullif(trim(country), '') as country,
        try_cast(trim(quantity) as double) as quantity_number,
        try_cast(trim(unit_price) as double) as unit_price_number,
        try_strptime(trim(invoice_date), [{{ date_formats | join(', ') }}]) as invoiced_at
    from raw_lines
),

classified_lines as (
    select
        *,
        case
            when line_error is not null then line_error
            when invoice_no is null then 'missing_invoice_no'
            when stock_code is null then 'missing_stock_code'
            when
                quantity_number is null
                or not isfinite(quantity_number)
                or quantity_number != trunc(quantity_number)
                then 'unparseable_quantity'
            when unit_price_number is null or not isfinite(unit_price_number)
                then 'unparseable_unit_price'
            when invoiced_at is null then 'unparseable_invoice_date'
            when invoiced_at > current_localtimestamp() then 'invoice_date_in_future'
            when abs(quantity_number) > {{ var('max_abs_quantity') }} then 'absurd_quantity'
            when abs(unit_price_number) > {{ var('max_abs_unit_price') }} then 'absurd_unit_price'
        end as parse_error
    from typed_lines
),

deduplicated_lines as (
    select
        *,
        -- an exact repeat of an earlier valid line (all eight fields equal) is
        -- quarantined; the first copy, by file name and line number, is staged
        case
            when parse_error is null
                then row_number() over (
                    partition by
                        parse_error is null,
                        invoice_no, stock_code, description, quantity_number,
                        invoiced_at, unit_price_number, customer_id, country
                    order by source_file, source_line_number
                )
        end as copy_number
    from classified_lines
),

final as (
    select
        source_file,
        source_line_number,
        raw_line,
        invoice_no,
        stock_code,
        description,
        customer_id,
        country,
        try_cast(quantity_number as bigint) as quantity,
        try_cast(unit_price_number as decimal(18, 4)) as unit_price,
        invoiced_at,
        coalesce(parse_error, case when copy_number > 1 then 'duplicate_line' end) as reject_reason
    from deduplicated_lines
)

select * from final
