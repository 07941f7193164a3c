{#- One row per segment: what a marketer reads. Size and shares, revenue,
    the mean and median of every feature, the persona, the main country and
    the dominant RFM segment. -#}

{%- set profile_features = ['recency_days', 'frequency', 'monetary', 'tenure_days', 'avg_order_value',
    'items_per_order', 'distinct_products', 'return_rate', 'mean_days_between_orders',
    'weekend_order_share'] %}

with

customer_segments as (
    select
        customer_id,
        segment_id,
        rfm_segment,
        country,
        model_version
    from {{ ref('customer_segments') }}
),

customer_features as (
    select
        customer_id,
        {%- for feature in profile_features %}
        {{ feature }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('customer_features') }}
),

segment_personas as (
    select
        segment_id,
        segment_name,
        persona_key,
        persona_description,
        suggested_action
    from {{ ref('segment_personas') }}
),

segmented_customers as (
    select
        customer_segments.segment_id,
        customer_segments.rfm_segment,
        customer_segments.country,
        customer_segments.model_version,
        customer_features.*
    from customer_segments
    inner join customer_features
        on customer_segments.customer_id = customer_features.customer_id
),

segment_stats as (
    select
        segment_id,
        any_value(model_version) as model_version,
        count(*) as customer_count,
        sum(monetary) as revenue,
        {%- for feature in profile_features %}
        avg({{ feature }}) as {{ feature }}_mean,
        median({{ feature }}) as {{ feature }}_median{{ "," if not loop.last }}
        {%- endfor %}
    from segmented_customers
    group by segment_id
),

top_countries as (
    select
        segment_id,
        country as top_country,
        count(*) as top_country_customer_count
    from segmented_customers
    group by segment_id, country
    qualify row_number() over (partition by segment_id order by count(*) desc, country) = 1
),

dominant_rfm_segments as (
    select
        segment_id,
        rfm_segment as dominant_rfm_segment,
        count(*) as dominant_rfm_segment_customer_count
    from segmented_customers
    group by segment_id, rfm_segment
    qualify row_number() over (partition by segment_id order by count(*) desc, rfm_segment) = 1
),

final as (
    select
        segment_stats.segment_id,
        segment_personas.segment_name,
        segment_personas.persona_key,
        segment_personas.persona_description,
        segment_personas.suggested_action,
        segment_stats.customer_count,
        segment_stats.customer_count / sum(segment_stats.customer_count) over () as customer_share,
        round(segment_stats.revenue, 2) as revenue,
        segment_stats.revenue / sum(segment_stats.revenue) over () as revenue_share,
        top_countries.top_country,
        top_countries.top_country_customer_count / segment_stats.customer_count as top_country_share,
        dominant_rfm_segments.dominant_rfm_segment,
        dominant_rfm_segments.dominant_rfm_segment_customer_count / segment_stats.customer_count
            as dominant_rfm_segment_share,
        {%- for feature in profile_features %}
        segment_stats.{{ feature }}_mean,
        segment_stats.{{ feature }}_median,
        {%- endfor %}
        segment_stats.model_version
    from segment_stats
    left join segment_personas
        on segment_stats.segment_id = segment_personas.segment_id
    left join top_countries
        on segment_stats.segment_id = top_countries.segment_id
    left join dominant_rfm_segments
        on segment_stats.segment_id = dominant_rfm_segments.segment_id
)

select * from final
