{#- Product pairs most often bought together: among the 200 products in the
    most sale invoices (a bound that keeps the self-join small on any data
    size), the 100 pairs found together in the most invoices, with support
    (pair_support: share of all sale invoices holding both), confidence each way and lift
    (above 1: bought together more often than chance). -#}

{%- set candidate_products = 200 %}
{%- set top_pairs = 100 %}

with

product_sale_lines as (
    select
        invoice_no,
        stock_code,
        description
    from {{ ref('stg_online_retail__transaction_lines') }}
    where is_product_sale
),

invoice_products as (
    select distinct
        invoice_no,
        stock_code
    from product_sale_lines
),

sale_invoice_count as (
    select count(distinct invoice_no) as order_count
    from invoice_products
),

product_orders as (
    select
        stock_code,
        count(*) as order_count
    from invoice_products
    group by stock_code
    order by order_count desc, stock_code asc
    limit {{ candidate_products }}
),

product_descriptions as (
    select
        stock_code,
        mode(description) as description
    from product_sale_lines
    where stock_code in (select product_orders.stock_code from product_orders)
    group by stock_code
),

candidate_lines as (
    select
        invoice_products.invoice_no,
        invoice_products.stock_code
    from invoice_products
    inner join product_orders
        on invoice_products.stock_code = product_orders.stock_code
),

pairs as (
    select
        first_product.stock_code as stock_code_a,
        second_product.stock_code as stock_code_b,
        count(*) as pair_order_count
    from candidate_lines as first_product
    inner join candidate_lines as second_product
        on
            first_product.invoice_no = second_product.invoice_no
            and first_product.stock_code < second_product.stock_code
    group by first_product.stock_code, second_product.stock_code
    order by pair_order_count desc, stock_code_a asc, stock_code_b asc
    limit {{ top_pairs }}
),

final as (
    select
        pairs.stock_code_a,
        description_a.description as description_a,
        pairs.stock_code_b,
        description_b.description as description_b,
        pairs.pair_order_count,
        orders_a.order_count as order_count_a,
        orders_b.order_count as order_count_b,
        round(pairs.pair_order_count / sale_invoice_count.order_count, 6) as pair_support,
        round(pairs.pair_order_count / orders_a.order_count, 4) as confidence_a_to_b,
        round(pairs.pair_order_count / orders_b.order_count, 4) as confidence_b_to_a,
        round(
            pairs.pair_order_count * sale_invoice_count.order_count
            / (orders_a.order_count * orders_b.order_count),
            3
        ) as lift
    from pairs
    cross join sale_invoice_count
    inner join product_orders as orders_a
        on pairs.stock_code_a = orders_a.stock_code
    inner join product_orders as orders_b
        on pairs.stock_code_b = orders_b.stock_code
    left join product_descriptions as description_a
        on pairs.stock_code_a = description_a.stock_code
    left join product_descriptions as description_b
        on pairs.stock_code_b = description_b.stock_code
    order by pairs.pair_order_count desc, pairs.stock_code_a asc, pairs.stock_code_b asc
)

select * from final
