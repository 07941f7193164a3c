{#- The RFM grid: customers and revenue (monetary, net of returns) in each
    cell of recency score x frequency score (1 to 5, 5 best), with each
    cell's share of customers and the RFM segment most of its customers
    are in. -#}

with

customer_features as (
    select
        recency_score,
        frequency_score,
        rfm_segment,
        monetary
    from {{ ref('customer_features') }}
),

cells as (
    select
        recency_score,
        frequency_score,
        count(*) as customer_count,
        sum(monetary) as revenue,
        mode(rfm_segment) as rfm_segment
    from customer_features
    group by recency_score, frequency_score
),

final as (
    select
        recency_score,
        frequency_score,
        rfm_segment,
        customer_count,
        round(customer_count / sum(customer_count) over (), 4) as customer_share,
        round(revenue, 2) as revenue
    from cells
    order by recency_score desc, frequency_score asc
)

select * from final
