{#- Cluster segments against rule-based RFM segments: one row per cluster
    segment, RFM scheme and RFM segment, every combination present (zero
    when no customer falls in it), so a BI tool can draw the heat map. The
    two schemes are the R x F grid (`rf_grid`, seed rfm_segment_grid) and
    the R-F-M code map (`rfm_code_map`, seed rfm_code_segments). -#}

with

customer_segments as (
    select
        customer_id,
        segment_id,
        segment_name,
        rfm_segment,
        rfm_cell,
        monetary
    from {{ ref('customer_segments') }}
),

rfm_segment_grid as (
    select distinct rfm_segment
    from {{ ref('rfm_segment_grid') }}
),

rfm_code_segments as (
    select
        rfm_cell,
        rfm_code_segment
    from {{ ref('rfm_code_segments') }}
),

rfm_scheme_segments as (
    select
        'rf_grid' as rfm_scheme,
        rfm_segment
    from rfm_segment_grid
    union all
    select distinct
        'rfm_code_map' as rfm_scheme,
        rfm_code_segment as rfm_segment
    from rfm_code_segments
),

cluster_segments as (
    select
        segment_id,
        any_value(segment_name) as segment_name
    from customer_segments
    group by segment_id
),

customers_by_scheme as (
    select
        customer_segments.segment_id,
        'rf_grid' as rfm_scheme,
        customer_segments.rfm_segment,
        customer_segments.monetary
    from customer_segments
    union all
    select
        customer_segments.segment_id,
        'rfm_code_map' as rfm_scheme,
        rfm_code_segments.rfm_code_segment as rfm_segment,
        customer_segments.monetary
    from customer_segments
    left join rfm_code_segments
        on customer_segments.rfm_cell = rfm_code_segments.rfm_cell
),

counted as (
    select
        segment_id,
        rfm_scheme,
        rfm_segment,
        count(*) as customer_count,
        sum(monetary) as revenue
    from customers_by_scheme
    group by segment_id, rfm_scheme, rfm_segment
),

every_combination as (
    select
        cluster_segments.segment_id,
        cluster_segments.segment_name,
        rfm_scheme_segments.rfm_scheme,
        rfm_scheme_segments.rfm_segment,
        coalesce(counted.customer_count, 0) as customer_count,
        coalesce(counted.revenue, 0) as revenue
    from cluster_segments
    cross join rfm_scheme_segments
    left join counted
        on
            cluster_segments.segment_id = counted.segment_id
            and rfm_scheme_segments.rfm_scheme = counted.rfm_scheme
            and rfm_scheme_segments.rfm_segment = counted.rfm_segment
),

final as (
    select
        cast(segment_id as integer) as segment_id,
        segment_name,
        rfm_scheme,
        rfm_segment,
        cast(customer_count as bigint) as customer_count,
        cast(customer_count / sum(customer_count) over (partition by rfm_scheme) as double) as customer_share,
        cast(
            customer_count / nullif(sum(customer_count) over (partition by rfm_scheme, segment_id), 0) as double
        ) as share_of_segment,
        cast(
            customer_count / nullif(sum(customer_count) over (partition by rfm_scheme, rfm_segment), 0) as double
        ) as share_of_rfm_segment,
        cast(round(revenue, 2) as double) as revenue
    from every_combination
)

select * from final
