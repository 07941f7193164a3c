{#- New versus returning customers by month. A customer is new in the month
    of their first sale invoice and returning in every later month with a
    sale; revenue is product sales net of returns on the month's invoices.
    Invoices without a customer id are left out. -#}

with

invoices as (
    select
        customer_id,
        product_sales_amount,
        product_returns_amount,
        is_sale,
        cast({{ dbt.date_trunc('month', 'invoice_date') }} as date) as activity_month
    from {{ ref('int_invoices_aggregated_from_lines') }}
    where customer_id is not null
),

customer_months as (
    select
        customer_id,
        activity_month,
        bool_or(is_sale) as has_sale,
        sum(product_sales_amount) - sum(product_returns_amount) as net_revenue
    from invoices
    group by customer_id, activity_month
),

first_months as (
    select
        customer_id,
        min(activity_month) as first_month
    from customer_months
    where has_sale
    group by customer_id
),

classified as (
    select
        customer_months.activity_month,
        customer_months.net_revenue,
        customer_months.activity_month = first_months.first_month as is_new
    from customer_months
    inner join first_months
        on customer_months.customer_id = first_months.customer_id
    where customer_months.has_sale
),

final as (
    select
        activity_month,
        count(*) filter (where is_new) as new_customer_count,
        count(*) filter (where not is_new) as returning_customer_count,
        count(*) as active_customer_count,
        round(count(*) filter (where is_new) / count(*), 4) as new_customer_share,
        round(coalesce(sum(net_revenue) filter (where is_new), 0), 2) as new_customer_revenue,
        round(coalesce(sum(net_revenue) filter (where not is_new), 0), 2) as returning_customer_revenue
    from classified
    group by activity_month
    order by activity_month
)

select * from final
