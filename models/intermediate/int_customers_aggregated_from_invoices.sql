{#- lines before the as-of date; every dated line when it is unset -#}
{%- set before_as_of = "invoiced_at < cast('" ~ var('as_of_date') ~ "' as date)" if var('as_of_date') else "invoiced_at is not null" -%}

{#- One row per customer with at least one product sale before the as-of
    date (var as_of_date; all data when unset): purchase counts, amounts and
    dates, before any scoring. Customers whose lines are all
    cancellations, returns or non-product lines are not here. -#}

with

invoices as (
    select
        invoice_no,
        customer_id,
        country,
        items_sold,
        product_sales_amount,
        product_returns_amount,
        is_sale,
        is_weekend,
        invoiced_at
    from {{ ref('int_invoices_aggregated_from_lines') }}
    where
        customer_id is not null
        and {{ before_as_of }}
),

product_sale_lines as (
    select
        customer_id,
        stock_code
    from {{ ref('stg_online_retail__transaction_lines') }}
    where
        is_product_sale
        and customer_id is not null
        and {{ before_as_of }}
),

products_per_customer as (
    select
        customer_id,
        count(distinct stock_code) as distinct_products
    from product_sale_lines
    group by customer_id
),

invoices_per_country as (
    select
        customer_id,
        country,
        count(*) as invoice_count
    from invoices
    where is_sale and country is not null
    group by customer_id, country
),

main_country as (
    -- the country of most of the customer's sales; ties go to the first name
    select
        customer_id,
        country
    from invoices_per_country
    qualify row_number() over (
        partition by customer_id order by invoice_count desc, country asc
    ) = 1
),

customer_invoices as (
    select
        customer_id,
        count(*) filter (where is_sale) as sale_invoice_count,
        count(*) filter (where is_sale and is_weekend) as weekend_sale_invoice_count,
        coalesce(sum(items_sold) filter (where is_sale), 0) as items_sold,
        coalesce(sum(product_sales_amount) filter (where is_sale), 0) as gross_sales_amount,
        coalesce(sum(product_returns_amount), 0) as returns_amount,
        min(invoiced_at) filter (where is_sale) as first_purchase_at,
        max(invoiced_at) filter (where is_sale) as last_purchase_at
    from invoices
    group by customer_id
),

final as (
    select
        customer_invoices.customer_id,
        main_country.country,
        customer_invoices.sale_invoice_count,
        customer_invoices.weekend_sale_invoice_count,
        customer_invoices.items_sold,
        coalesce(products_per_customer.distinct_products, 0) as distinct_products,
        customer_invoices.gross_sales_amount,
        customer_invoices.returns_amount,
        customer_invoices.first_purchase_at,
        customer_invoices.last_purchase_at
    from customer_invoices
    left join main_country
        on customer_invoices.customer_id = main_country.customer_id
    left join products_per_customer
        on customer_invoices.customer_id = products_per_customer.customer_id
    where customer_invoices.sale_invoice_count > 0
)

select * from final
