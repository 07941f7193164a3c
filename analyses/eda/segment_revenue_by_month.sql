{#- Segment-level view over time: each segment's monthly net revenue, orders
    and active customers, and its share of the month's revenue from
    segmented customers. Customers are placed in their current segment for
    the whole history, so this shows where today's segments' revenue came
    from, not how segments looked in the past. -#}

with

invoices as (
    select
        cast({{ dbt.date_trunc('month', 'invoice_date') }} as date) as revenue_month,
        customer_id,
        is_sale,
        product_sales_amount - product_returns_amount as net_amount
    from {{ ref('int_invoices_aggregated_from_lines') }}
    where customer_id is not null
),

customer_segments as (
    select
        customer_id,
        segment_id,
        segment_name
    from {{ ref('customer_segments') }}
),

segment_months as (
    select
        invoices.revenue_month,
        customer_segments.segment_id,
        customer_segments.segment_name,
        count(*) filter (where invoices.is_sale) as order_count,
        count(distinct invoices.customer_id) filter (where invoices.is_sale) as active_customer_count,
        sum(invoices.net_amount) as net_revenue
    from invoices
    inner join customer_segments
        on invoices.customer_id = customer_segments.customer_id
    group by invoices.revenue_month, customer_segments.segment_id, customer_segments.segment_name
),

final as (
    select
        revenue_month,
        segment_id,
        segment_name,
        order_count,
        active_customer_count,
        round(net_revenue, 2) as net_revenue,
        round(net_revenue / nullif(sum(net_revenue) over (partition by revenue_month), 0), 4)
            as month_revenue_share
    from segment_months
    order by revenue_month, segment_id
)

select * from final
