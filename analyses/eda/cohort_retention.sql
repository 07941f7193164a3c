{#- Monthly cohort retention matrix in long format. A customer's cohort is the
    month of their first sale invoice; retention is the share of the cohort
    with a sale invoice in the month months_since_first after it (so month 0
    is always 1.0). Every cohort has a row for every later month in the data,
    with zero customers where nobody came back. -#}

with

invoices as (
    select
        customer_id,
        invoice_date
    from {{ ref('int_invoices_aggregated_from_lines') }}
    where is_sale and customer_id is not null
),

customer_months as (
    select distinct
        customer_id,
        cast({{ dbt.date_trunc('month', 'invoice_date') }} as date) as activity_month
    from invoices
),

cohorts as (
    select
        customer_id,
        min(activity_month) as cohort_month
    from customer_months
    group by customer_id
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as cohort_customer_count
    from cohorts
    group by cohort_month
),

data_months as (
    select distinct activity_month
    from customer_months
),

cohort_grid as (
    select
        cohort_sizes.cohort_month,
        data_months.activity_month,
        cohort_sizes.cohort_customer_count
    from cohort_sizes
    inner join data_months
        on cohort_sizes.cohort_month <= data_months.activity_month
),

active_customers as (
    select
        cohorts.cohort_month,
        customer_months.activity_month,
        count(*) as active_customer_count
    from customer_months
    inner join cohorts
        on customer_months.customer_id = cohorts.customer_id
    group by cohorts.cohort_month, customer_months.activity_month
),

final as (
    select
        cohort_grid.cohort_month,
        {{ dbt.datediff('cohort_grid.cohort_month', 'cohort_grid.activity_month', 'month') }} as months_since_first,
        cohort_grid.activity_month,
        cohort_grid.cohort_customer_count,
        coalesce(active_customers.active_customer_count, 0) as active_customer_count,
        round(coalesce(active_customers.active_customer_count, 0) / cohort_grid.cohort_customer_count, 4)
            as retention
    from cohort_grid
    left join active_customers
        on
            cohort_grid.cohort_month = active_customers.cohort_month
            and cohort_grid.activity_month = active_customers.activity_month
    order by cohort_grid.cohort_month asc, cohort_grid.activity_month asc
)

select * from final
