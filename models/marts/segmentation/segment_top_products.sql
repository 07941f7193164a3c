{#- The ten products bought by most of each segment's customers, one row
    per segment and product rank (ties: higher net revenue first). Breadth
    rather than revenue, so that one huge order does not make a product
    "typical" of a segment. Only lines before the as-of date count, as for
    the features. -#}

{#- the lines that count: product sales and returns of known customers. Read
    by two CTEs, each from staging: a CTE read twice is materialized by
    DuckDB (at 50M lines, 37M rows held: 23.8 s and 2.9 GB, against 14.0 s
    and 2.6 GB) -#}
{%- set counted_lines = "(is_product_sale or is_product_return) and customer_id is not null" %}

with

transaction_lines as (
    select
        customer_id,
        stock_code,
        quantity,
        line_amount,
        invoice_date
    from {{ ref('stg_online_retail__transaction_lines') }}
    where {{ counted_lines }}
),

customer_scores as (
    {#- the segment each customer is scored into, read where it is made: not
        from customer_segments, which waits for the personas and five more
        models, so that this model (at 10.8M lines the longest after the
        clustering) starts beside them -#}
    select
        customer_id,
        segment_id
    from {{ ref('int_customers_scored') }}
),

customer_features as (
    select
        customer_id,
        as_of_date
    from {{ ref('customer_features') }}
),

customer_segments as (
    {#- the customers of customer_segments: those both featurized and scored -#}
    select
        customer_scores.customer_id,
        customer_scores.segment_id,
        customer_features.as_of_date
    from customer_scores
    inner join customer_features
        on customer_scores.customer_id = customer_features.customer_id
),

segment_product_sales as (
    select
        customer_segments.segment_id,
        transaction_lines.stock_code,
        sum(transaction_lines.line_amount) as revenue,
        sum(transaction_lines.quantity) as units,
        count(distinct transaction_lines.customer_id) as customer_count
    from transaction_lines
    inner join customer_segments
        on transaction_lines.customer_id = customer_segments.customer_id
    where transaction_lines.invoice_date < customer_segments.as_of_date
    group by customer_segments.segment_id, transaction_lines.stock_code
),

segment_sizes as (
    select
        segment_id,
        count(*) as segment_customer_count
    from customer_segments
    group by segment_id
),

ranked as (
    select
        *,
        revenue / nullif(sum(revenue) over (partition by segment_id), 0) as segment_revenue_share,
        row_number() over (partition by segment_id order by customer_count desc, revenue desc, stock_code asc) as product_rank
    from segment_product_sales
),

ranked_products as (
    select stock_code
    from ranked
    where product_rank <= 10
),

description_counts as (
    {#- only for the products ranked: the lines' descriptions grouped for
        a few dozen codes, not for every code sold -#}
    select
        stock_code,
        description,
        count(*) as line_count
    from {{ ref('stg_online_retail__transaction_lines') }}
    where
        {{ counted_lines }}
        and description is not null
        and stock_code in (select ranked_products.stock_code from ranked_products)
    group by stock_code, description
),

product_descriptions as (
    {#- a code's description varies a little between lines: take the most
        common one (ties: alphabetically first). Counted apart: Spark does
        not rank by an aggregate in the qualify of a grouped select -#}
    select
        stock_code,
        description as product_description
    from description_counts
    qualify row_number() over (partition by stock_code order by line_count desc, description asc) = 1
),

final as (
    select
        cast(ranked.segment_id as integer) as segment_id,
        cast(ranked.product_rank as integer) as product_rank,
        ranked.stock_code,
        coalesce(product_descriptions.product_description, ranked.stock_code) as product_description,
        cast(round(ranked.revenue, 2) as double) as revenue,
        cast(ranked.segment_revenue_share as double) as segment_revenue_share,
        cast(ranked.units as bigint) as units,
        cast(ranked.customer_count as bigint) as customer_count,
        cast(ranked.customer_count / segment_sizes.segment_customer_count as double) as segment_customer_share
    from ranked
    inner join segment_sizes
        on ranked.segment_id = segment_sizes.segment_id
    left join product_descriptions
        on ranked.stock_code = product_descriptions.stock_code
    where ranked.product_rank <= 10
)

select * from final
