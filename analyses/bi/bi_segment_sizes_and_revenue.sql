{#- BI: segment sizes and revenue, largest revenue first. One row per
    segment of the selected model with its persona, customers, revenue
    (monetary, net of returns), both shares, revenue per customer and the
    suggested action. -#}

with

segment_profiles as (
    select
        segment_id,
        segment_name,
        persona_description,
        suggested_action,
        customer_count,
        customer_share,
        revenue,
        revenue_share
    from {{ ref('segment_profiles') }}
),

final as (
    select
        segment_id,
        segment_name,
        persona_description,
        customer_count,
        round(customer_share, 4) as customer_share,
        revenue,
        round(revenue_share, 4) as revenue_share,
        round(revenue / customer_count, 2) as revenue_per_customer,
        suggested_action
    from segment_profiles
    order by revenue desc, segment_id asc
)

select * from final
