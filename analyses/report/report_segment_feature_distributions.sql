{#- Report: the distribution of every clustering feature (setting
    features) in each segment, over all segmented customers: customers with
    a value, the 5th, 25th, 50th, 75th and 95th percentiles and the mean.
    Each row also carries the feature's range, median and skewness over all
    customers, which decide whether a chart draws it on a log axis. -#}

{%- set features = segmentation_settings()['features'] %}

with

customer_segments as (
    select
        customer_id,
        segment_id
    from {{ ref('customer_segments') }}
),

customer_features as (
    select
        customer_id,
        {{ features | join(',\n        ') }}
    from {{ ref('customer_features') }}
),

feature_values as (
    {%- for feature in features %}
        select
            customer_segments.segment_id,
            '{{ feature }}' as feature,
            cast(customer_features.{{ feature }} as double) as feature_value
        from customer_segments
        inner join customer_features
            on customer_segments.customer_id = customer_features.customer_id
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

per_segment as (
    select
        segment_id,
        feature,
        count(feature_value) as customer_count,
        percentile_cont(0.05) within group (order by feature_value) as p05,
        percentile_cont(0.25) within group (order by feature_value) as p25,
        percentile_cont(0.5) within group (order by feature_value) as p50,
        percentile_cont(0.75) within group (order by feature_value) as p75,
        percentile_cont(0.95) within group (order by feature_value) as p95,
        avg(feature_value) as mean_value
    from feature_values
    group by segment_id, feature
),

moments as (
    select
        feature,
        min(feature_value) as min_value,
        max(feature_value) as max_value,
        percentile_cont(0.5) within group (order by feature_value) as median_value,
        avg(feature_value) as mean_value,
        stddev_pop(feature_value) as sd_value
    from feature_values
    group by feature
),

shapes as (
    select
        moments.feature,
        moments.min_value,
        moments.max_value,
        moments.median_value,
        coalesce(
            avg(power(feature_values.feature_value - moments.mean_value, 3))
            / nullif(power(moments.sd_value, 3), 0),
            0
        ) as skewness
    from feature_values
    inner join moments
        on feature_values.feature = moments.feature
    group by moments.feature, moments.min_value, moments.max_value, moments.median_value, moments.sd_value
),

final as (
    select
        per_segment.segment_id,
        per_segment.feature,
        per_segment.customer_count,
        per_segment.p05,
        per_segment.p25,
        per_segment.p50,
        per_segment.p75,
        per_segment.p95,
        per_segment.mean_value,
        shapes.min_value as feature_min,
        shapes.max_value as feature_max,
        shapes.median_value as feature_median,
        shapes.skewness as feature_skewness
    from per_segment
    inner join shapes
        on per_segment.feature = shapes.feature
    order by per_segment.feature asc, per_segment.segment_id asc
)

select * from final
