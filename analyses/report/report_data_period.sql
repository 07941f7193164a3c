{#- Report: the data behind the segments, one row: the first and last
    purchase of the segmented customers, the as-of date of their features,
    how many customers and how much net revenue, and the raw files and
    lines loaded (staged or quarantined). -#}

with

customer_features as (
    select
        first_purchase_date,
        last_purchase_date,
        as_of_date,
        monetary
    from {{ ref('customer_features') }}
),

source_file_loads as (
    select
        lines_read,
        lines_staged,
        lines_rejected
    from {{ ref('source_file_loads') }}
),

customers as (
    select
        min(first_purchase_date) as first_purchase_date,
        max(last_purchase_date) as last_purchase_date,
        max(as_of_date) as as_of_date,
        count(*) as customer_count,
        sum(monetary) as net_revenue
    from customer_features
),

loads as (
    select
        count(*) as file_count,
        coalesce(sum(lines_read), 0) as lines_read,
        coalesce(sum(lines_staged), 0) as lines_staged,
        coalesce(sum(lines_rejected), 0) as lines_rejected
    from source_file_loads
),

final as (
    select
        customers.first_purchase_date,
        customers.last_purchase_date,
        customers.as_of_date,
        customers.customer_count,
        round(customers.net_revenue, 2) as net_revenue,
        loads.file_count,
        loads.lines_read,
        loads.lines_staged,
        loads.lines_rejected
    from customers
    cross join loads
)

select * from final
