{#- Monthly revenue, orders, active customers and average order value.
    An order is a sale invoice (not cancelled, with product sales); revenue is
    product sales net of product returns, postage and fees left out, over all
    invoices whether or not they carry a customer id (active customers count
    the ones that do). The first and last months may be partial: see
    days_with_sales. -#}

with

invoices as (
    select
        invoice_no,
        customer_id,
        items_sold,
        product_sales_amount,
        product_returns_amount,
        is_sale,
        invoice_date,
        cast({{ dbt.date_trunc('month', 'invoice_date') }} as date) as revenue_month
    from {{ ref('int_invoices_aggregated_from_lines') }}
),

monthly as (
    select
        revenue_month,
        count(distinct invoice_date) filter (where is_sale) as days_with_sales,
        count(*) filter (where is_sale) as order_count,
        count(distinct customer_id) filter (where is_sale) as active_customer_count,
        coalesce(sum(items_sold) filter (where is_sale), 0) as items_sold,
        coalesce(sum(product_sales_amount), 0) as gross_sales_amount,
        coalesce(sum(product_returns_amount), 0) as returns_amount
    from invoices
    group by revenue_month
),

final as (
    select
        revenue_month,
        days_with_sales,
        order_count,
        active_customer_count,
        items_sold,
        round(gross_sales_amount, 2) as gross_sales_amount,
        round(returns_amount, 2) as returns_amount,
        round(gross_sales_amount - returns_amount, 2) as net_revenue,
        round(gross_sales_amount / nullif(order_count, 0), 2) as avg_order_value,
        round(items_sold / nullif(order_count, 0), 2) as avg_items_per_order
    from monthly
    order by revenue_month
)

select * from final
