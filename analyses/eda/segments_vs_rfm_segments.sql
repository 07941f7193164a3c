{#- How the learned segments relate to the rule-based RFM segments: customers
    per segment and RFM segment, as a share of the segment and of the RFM
    segment. -#}

with

customer_segments as (
    select
        segment_id,
        segment_name,
        rfm_segment
    from {{ ref('customer_segments') }}
),

counts as (
    select
        segment_id,
        segment_name,
        rfm_segment,
        count(*) as customer_count
    from customer_segments
    group by segment_id, segment_name, rfm_segment
),

final as (
    select
        segment_id,
        segment_name,
        rfm_segment,
        customer_count,
        round(customer_count / sum(customer_count) over (partition by segment_id), 4) as share_of_segment,
        round(customer_count / sum(customer_count) over (partition by rfm_segment), 4) as share_of_rfm_segment
    from counts
    order by segment_id asc, customer_count desc, rfm_segment asc
)

select * from final
