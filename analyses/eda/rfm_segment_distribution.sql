{#- The rule-based RFM segments: customers and revenue (monetary, net of
    returns) per segment with their shares, and the segment's typical recency,
    frequency and monetary value. -#}

with

customer_features as (
    select
        rfm_segment,
        recency_days,
        frequency,
        monetary
    from {{ ref('customer_features') }}
),

segments as (
    select
        rfm_segment,
        count(*) as customer_count,
        sum(monetary) as revenue,
        median(recency_days) as recency_days_median,
        median(frequency) as frequency_median,
        median(monetary) as monetary_median
    from customer_features
    group by rfm_segment
),

final as (
    select
        rfm_segment,
        customer_count,
        round(customer_count / sum(customer_count) over (), 4) as customer_share,
        round(revenue, 2) as revenue,
        round(revenue / sum(revenue) over (), 4) as revenue_share,
        recency_days_median,
        frequency_median,
        round(monetary_median, 2) as monetary_median
    from segments
    order by customer_count desc, rfm_segment asc
)

select * from final
