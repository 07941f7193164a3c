{#- Top products by revenue and by number of customers: every product in the
    top 25 of either ranking, with both ranks. Only product sale lines count
    (no cancellations, returns or non-product codes); a product's description
    is its most frequent one. -#}

{%- set top_n = 25 %}

with

product_sale_lines as (
    select
        invoice_no,
        stock_code,
        customer_id,
        description,
        quantity,
        line_amount
    from {{ ref('stg_online_retail__transaction_lines') }}
    where is_product_sale
),

products as (
    select
        stock_code,
        mode(description) as description,
        count(distinct invoice_no) as order_count,
        count(distinct customer_id) as customer_count,
        sum(quantity) as units_sold,
        sum(line_amount) as revenue
    from product_sale_lines
    group by stock_code
),

ranked as (
    select
        *,
        row_number() over (order by revenue desc, stock_code asc) as revenue_rank,
        row_number() over (order by customer_count desc, stock_code asc) as customer_rank,
        revenue / sum(revenue) over () as revenue_share
    from products
),

final as (
    select
        stock_code,
        description,
        revenue_rank,
        customer_rank,
        order_count,
        customer_count,
        units_sold,
        round(revenue, 2) as revenue,
        round(revenue_share, 6) as revenue_share
    from ranked
    where revenue_rank <= {{ top_n }} or customer_rank <= {{ top_n }}
    order by revenue_rank
)

select * from final
