{#- One row per customer with at least one product sale: the RFM and
    behaviour features the segmentation learns from, RFM scores and the
    rule-based RFM segment. Dates are measured against as_of_date.
    The per-order ratios (weekend share, return rate, days between orders)
    are shrunk toward the population value by the customer's order count,
    with the strength of var ratio_prior_orders orders: a customer with n
    orders gets (n * own value + m * population value) / (n + m), so a
    one-order customer never carries a 0/1 share. Per-order averages are
    rounded as decimals (the quotient cast to decimal(38, 6) first), so a
    tie such as 1299.33 / 6 = 216.555 rounds to 216.56 on every engine
    (DuckDB divides a DECIMAL as a DOUBLE, 216.55499..., Spark as a DECIMAL). -#}

{%- set prior_orders = "cast(" ~ var('ratio_prior_orders') ~ " as double)" %}

with

customers as (
    select
        customer_id,
        country,
        sale_invoice_count,
        weekend_sale_invoice_count,
        items_sold,
        distinct_products,
        gross_sales_amount,
        returns_amount,
        first_purchase_at,
        last_purchase_at
    from {{ ref('int_customers_aggregated_from_invoices') }}
),

rfm_segment_grid as (
    select
        recency_score,
        frequency_score,
        rfm_segment
    from {{ ref('rfm_segment_grid') }}
),

population as (
    -- the population values the per-order ratios are shrunk toward
    select
        sum(weekend_sale_invoice_count) / sum(sale_invoice_count) as weekend_order_share,
        sum(returns_amount) / sum(gross_sales_amount) as return_rate,
        -- null when no customer ordered twice: the gap is then undefined
        -- for everyone, and the fit drops the feature as all null
        sum({{ epoch_seconds('last_purchase_at') }} - {{ epoch_seconds('first_purchase_at') }}) / 86400.0
        / nullif(sum(sale_invoice_count - 1), 0) as days_between_orders
    from customers
),

as_of as (
    -- var as_of_date, else the day after the last purchase (never the wall clock)
    select
        {%- if var('as_of_date') %}
            max(cast('{{ var("as_of_date") }}' as date)) as as_of_date
        {%- else %}
            cast(max(last_purchase_at) as date) + 1 as as_of_date
        {%- endif %}
    from customers
),

features as (
    select
        customers.customer_id,
        customers.country,
        cast({{ dbt.datediff('cast(customers.last_purchase_at as date)', 'as_of.as_of_date', 'day') }} as bigint) as recency_days,
        customers.sale_invoice_count as frequency,
        cast(round(customers.gross_sales_amount - customers.returns_amount, 2) as double) as monetary,
        cast({{ dbt.datediff('cast(customers.first_purchase_at as date)', 'as_of.as_of_date', 'day') }} as bigint) as tenure_days,
        cast(round(cast(customers.gross_sales_amount / customers.sale_invoice_count as decimal(38, 6)), 2) as double)
            as avg_order_value,
        cast(round(cast(customers.items_sold / customers.sale_invoice_count as decimal(38, 6)), 2) as double)
            as items_per_order,
        customers.distinct_products,
        cast(round(
            (
                customers.sale_invoice_count * customers.returns_amount / customers.gross_sales_amount
                + {{ prior_orders }} * population.return_rate
            )
            / (customers.sale_invoice_count + {{ prior_orders }}),
            4
        ) as double) as return_rate,
        cast(round(
            (
                ({{ epoch_seconds('customers.last_purchase_at') }} - {{ epoch_seconds('customers.first_purchase_at') }}) / 86400.0
                + {{ prior_orders }} * population.days_between_orders
            )
            / (customers.sale_invoice_count - 1 + {{ prior_orders }}),
            2
        ) as double) as mean_days_between_orders,
        cast(round(
            (customers.weekend_sale_invoice_count + {{ prior_orders }} * population.weekend_order_share)
            / (customers.sale_invoice_count + {{ prior_orders }}),
            4
        ) as double) as weekend_order_share,
        cast(round(customers.gross_sales_amount, 2) as double) as gross_sales_amount,
        cast(round(customers.returns_amount, 2) as double) as returns_amount,
        cast(customers.first_purchase_at as date) as first_purchase_date,
        cast(customers.last_purchase_at as date) as last_purchase_date,
        as_of.as_of_date
    from customers
    cross join as_of
    cross join population
),

scored as (
    select
        *,
        {{ rfm_score('recency_days', higher_is_better=false) }} as recency_score,
        {{ rfm_score('frequency') }} as frequency_score,
        {{ rfm_score('monetary') }} as monetary_score
    from features
),

final as (
    select
        scored.customer_id,
        scored.country,
        cast(scored.recency_score as {{ dbt.type_string() }}) || cast(scored.frequency_score as {{ dbt.type_string() }}) || cast(scored.monetary_score as {{ dbt.type_string() }})
            as rfm_cell,
        rfm_segment_grid.rfm_segment,
        scored.recency_days,
        scored.frequency,
        scored.monetary,
        scored.tenure_days,
        scored.avg_order_value,
        scored.items_per_order,
        scored.distinct_products,
        scored.return_rate,
        scored.mean_days_between_orders,
        scored.weekend_order_share,
        scored.gross_sales_amount,
        scored.returns_amount,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        scored.first_purchase_date,
        scored.last_purchase_date,
        scored.as_of_date
    from scored
    left join rfm_segment_grid
        on
            scored.recency_score = rfm_segment_grid.recency_score
            and scored.frequency_score = rfm_segment_grid.frequency_score
)

select * from final
