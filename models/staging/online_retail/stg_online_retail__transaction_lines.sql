{#- The staged transaction lines: typed, renamed and flagged. Only lines with
    no reject reason; the rest are in transaction_rejects. -#}

with

lines_read as (
    select
        source_file,
        source_line_number,
        invoice_no,
        stock_code,
        description,
        customer_id,
        country,
        quantity,
        unit_price,
        invoiced_at
    from {{ ref('base_online_retail__lines_read') }}
    where reject_reason is null
),

non_product_codes as (
    select
        stock_code,
        non_product_category
    from {{ ref('base_online_retail__non_product_codes') }}
),

lines_with_codes as (
    select
        lines_read.*,
        non_product_codes.non_product_category
    from lines_read
    left join non_product_codes
        on lines_read.stock_code = non_product_codes.stock_code
),

final as (
    select
        source_file || ':' || source_line_number as transaction_line_id,
        invoice_no,
        stock_code,
        customer_id,
        description,
        country,
        non_product_category,
        quantity,
        unit_price,
        {{ line_amount('quantity', 'unit_price') }} as line_amount,
        {{ has_prefix('invoice_no', "'C'") }} as is_cancellation,
        quantity < 0 as is_return,
        non_product_category is not null as is_non_product,
        unit_price = 0 as is_zero_price,
        not {{ has_prefix('invoice_no', "'C'") }}
        and quantity > 0
        and unit_price > 0
        and non_product_category is null as is_product_sale,
        quantity < 0 and non_product_category is null as is_product_return,
        cast(invoiced_at as date) as invoice_date,
        invoiced_at,
        source_file,
        source_line_number
    from lines_with_codes
)

select * from final
