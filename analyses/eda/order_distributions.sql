{#- Basket size and order value distributions over sale invoices: for each
    measure (items per order, distinct products per order, lines per order,
    order value in currency units) its mean and quantiles from the 1st to the
    99th percentile. One row per measure. Distinct products are counted here,
    from the staged lines of those invoices: no model keeps them. -#}

{%- set measures = {
    'items_per_order': 'items_sold',
    'distinct_products_per_order': 'distinct_products_sold',
    'lines_per_order': 'line_count',
    'order_value': 'product_sales_amount'
} %}
{%- set quantiles = {'p01': 0.01, 'p05': 0.05, 'p10': 0.1, 'p25': 0.25, 'p50': 0.5,
    'p75': 0.75, 'p90': 0.9, 'p95': 0.95, 'p99': 0.99} %}

with

sale_invoices as (
    select
        invoice_no,
        line_count,
        items_sold,
        product_sales_amount
    from {{ ref('int_invoices_aggregated_from_lines') }}
    where is_sale
),

products_per_invoice as (
    select
        invoice_no,
        count(distinct stock_code) as distinct_products_sold
    from {{ ref('stg_online_retail__transaction_lines') }}
    where is_product_sale
    group by invoice_no
),

sale_invoices_with_products as (
    select
        sale_invoices.line_count,
        sale_invoices.items_sold,
        coalesce(products_per_invoice.distinct_products_sold, 0) as distinct_products_sold,
        sale_invoices.product_sales_amount
    from sale_invoices
    left join products_per_invoice
        on sale_invoices.invoice_no = products_per_invoice.invoice_no
),

statistics as (
    select
        {%- for measure, column_name in measures.items() %}
            avg({{ column_name }}) as {{ measure }}_mean,
            min({{ column_name }}) as {{ measure }}_min,
            max({{ column_name }}) as {{ measure }}_max,
            {%- for label, quantile in quantiles.items() %}
                percentile_cont({{ quantile }}) within group (order by {{ column_name }}) as {{ measure }}_{{ label }},
            {%- endfor %}
        {%- endfor %}
        count(*) as order_count
    from sale_invoices_with_products
),

final as (
    {%- for measure in measures %}
        select
            '{{ measure }}' as measure,
            order_count,
            round({{ measure }}_mean, 2) as mean_value,
            round({{ measure }}_min, 2) as min_value,
            {%- for label in quantiles %}
                round({{ measure }}_{{ label }}, 2) as {{ label }},
            {%- endfor %}
            round({{ measure }}_max, 2) as max_value
        from statistics
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from final
