{#- BI: monthly net revenue per segment, chart-ready (month, segment,
    revenue). Customers count in their current segment for their whole
    history; invoices without a customer id are left out. -#}

with

invoices as (
    select
        customer_id,
        product_sales_amount,
        product_returns_amount,
        cast({{ dbt.date_trunc('month', 'invoice_date') }} as date) as revenue_month
    from {{ ref('int_invoices_aggregated_from_lines') }}
    where customer_id is not null
),

customer_segments as (
    select
        customer_id,
        segment_name
    from {{ ref('customer_segments') }}
),

final as (
    select
        invoices.revenue_month,
        customer_segments.segment_name,
        round(sum(invoices.product_sales_amount) - sum(invoices.product_returns_amount), 2) as net_revenue
    from invoices
    inner join customer_segments
        on invoices.customer_id = customer_segments.customer_id
    group by invoices.revenue_month, customer_segments.segment_name
    order by invoices.revenue_month asc, customer_segments.segment_name asc
)

select * from final
