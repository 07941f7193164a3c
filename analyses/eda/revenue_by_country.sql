{#- Revenue and customers by country. Revenue (product sales net of returns)
    and orders go to the invoice's country; each customer is counted once, in
    their main country (where most of their orders were placed), so both
    shares sum to 1 over all countries. -#}

with

invoices as (
    select
        coalesce(country, 'Unknown') as country,
        product_sales_amount,
        product_returns_amount,
        is_sale
    from {{ ref('int_invoices_aggregated_from_lines') }}
),

customer_features as (
    select
        customer_id,
        coalesce(country, 'Unknown') as country
    from {{ ref('customer_features') }}
),

revenue_per_country as (
    select
        country,
        count(*) filter (where is_sale) as order_count,
        sum(product_sales_amount) - sum(product_returns_amount) as net_revenue
    from invoices
    group by country
),

customers_per_country as (
    select
        country,
        count(*) as customer_count
    from customer_features
    group by country
),

joined as (
    select
        coalesce(revenue_per_country.country, customers_per_country.country) as country,
        coalesce(revenue_per_country.order_count, 0) as order_count,
        coalesce(customers_per_country.customer_count, 0) as customer_count,
        coalesce(revenue_per_country.net_revenue, 0) as net_revenue
    from revenue_per_country
    full outer join customers_per_country
        on revenue_per_country.country = customers_per_country.country
),

final as (
    select
        country,
        order_count,
        customer_count,
        round(net_revenue, 2) as net_revenue,
        net_revenue / sum(net_revenue) over () as revenue_share,
        customer_count / nullif(sum(customer_count) over (), 0) as customer_share,
        round(net_revenue / nullif(order_count, 0), 2) as revenue_per_order
    from joined
    order by net_revenue desc, country asc
)

select * from final
