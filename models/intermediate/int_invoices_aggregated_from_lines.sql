{#- One row per invoice: its customer, time, and what it sold and returned.
    Product amounts leave out non-product lines (postage, fees, adjustments). -#}

with

transaction_lines as (
    select
        invoice_no,
        customer_id,
        country,
        quantity,
        line_amount,
        is_cancellation,
        is_non_product,
        is_product_sale,
        is_product_return,
        invoiced_at
    from {{ ref('stg_online_retail__transaction_lines') }}
),

invoices as (
    select
        invoice_no,
        max(customer_id) as customer_id,
        max(country) as country,
        bool_or(is_cancellation) as is_cancellation,
        count(*) as line_count,
        coalesce(sum(quantity) filter (where is_product_sale), 0) as items_sold,
        coalesce(sum(line_amount) filter (where is_product_sale), 0) as product_sales_amount,
        coalesce(-sum(line_amount) filter (where is_product_return), 0) as product_returns_amount,
        coalesce(sum(line_amount) filter (where is_non_product), 0) as non_product_amount,
        min(invoiced_at) as invoiced_at
    from transaction_lines
    group by invoice_no
),

final as (
    select
        invoice_no,
        customer_id,
        country,
        line_count,
        items_sold,
        product_sales_amount,
        product_returns_amount,
        non_product_amount,
        not is_cancellation and product_sales_amount > 0 as is_sale,
        is_cancellation,
        {{ is_weekend('invoiced_at') }} as is_weekend,
        cast(invoiced_at as date) as invoice_date,
        invoiced_at
    from invoices
)

select * from final
