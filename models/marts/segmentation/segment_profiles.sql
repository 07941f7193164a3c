{#- One row per segment: what a marketer reads. The persona, size and
    shares, orders and revenue, the mean, median and z-score of every
    feature, the top countries and products and the dominant RFM segments
    of both RFM schemes. See the `segment_profiles` doc block. -#}

{#- the persona features: their z-scores come from segment_personas -#}
{%- set profile_features = persona_features() %}

with

customer_segments as (
    select
        customer_id,
        segment_id,
        rfm_segment,
        rfm_cell,
        country,
        model_version
    from {{ ref('customer_segments') }}
),

customer_features as (
    select
        customer_id,
        {%- for feature in profile_features %}
            {{ feature }},
        {%- endfor %}
        gross_sales_amount
    from {{ ref('customer_features') }}
),

rfm_code_segments as (
    select
        rfm_cell,
        rfm_code_segment
    from {{ ref('rfm_code_segments') }}
),

segment_personas as (
    select
        segment_id,
        segment_name,
        persona_key,
        persona_name,
        persona_description,
        suggested_action,
        {%- for feature in profile_features %}
            {{ feature }}_z,
        {%- endfor %}
        persona_rule
    from {{ ref('segment_personas') }}
),

segment_top_products as (
    select
        segment_id,
        product_rank,
        product_description
    from {{ ref('segment_top_products') }}
),

segmented_customers as (
    select
        customer_segments.segment_id,
        customer_segments.rfm_segment,
        rfm_code_segments.rfm_code_segment,
        customer_segments.country,
        customer_segments.model_version,
        {%- for feature in profile_features %}
            customer_features.{{ feature }},
        {%- endfor %}
        customer_features.gross_sales_amount
    from customer_segments
    inner join customer_features
        on customer_segments.customer_id = customer_features.customer_id
    left join rfm_code_segments
        on customer_segments.rfm_cell = rfm_code_segments.rfm_cell
),

segment_stats as (
    select
        segment_id,
        any_value(model_version) as model_version,
        count(*) as customer_count,
        sum(frequency) as order_count,
        sum(monetary) as revenue,
        {%- for feature in profile_features %}
            avg({{ feature }}) as {{ feature }}_mean,
            median({{ feature }}) as {{ feature }}_median,
        {%- endfor %}
        sum(gross_sales_amount) as gross_sales_amount
    from segmented_customers
    group by segment_id
),

country_counts as (
    select
        segment_id,
        country,
        count(*) as customer_count,
        row_number() over (partition by segment_id order by count(*) desc, country asc) as country_rank
    from segmented_customers
    group by segment_id, country
),

top_countries as (
    select
        country_counts.segment_id,
        max(case when country_counts.country_rank = 1 then country_counts.country end) as top_country,
        max(case when country_counts.country_rank = 1 then country_counts.customer_count end) as top_country_customer_count,
        {{ string_agg_ordered(
            "country_counts.country || ' ' || cast(round(100.0 * country_counts.customer_count / segment_stats.customer_count) as integer) || '%'",
            ', ',
            'country_counts.country_rank'
        ) }} as top_countries
    from country_counts
    inner join segment_stats
        on country_counts.segment_id = segment_stats.segment_id
    where country_counts.country_rank <= 3
    group by country_counts.segment_id
),

top_products as (
    select
        segment_id,
        {{ string_agg_ordered('product_description', ', ', 'product_rank') }} as top_products
    from segment_top_products
    where product_rank <= 3
    group by segment_id
),

rfm_segment_counts as (
    select
        segment_id,
        rfm_segment,
        count(*) as customer_count
    from segmented_customers
    group by segment_id, rfm_segment
),

dominant_rfm_segments as (
    {#- counted apart: Spark does not rank by an aggregate in the qualify
        of a grouped select -#}
    select
        segment_id,
        rfm_segment as dominant_rfm_segment,
        customer_count as dominant_rfm_segment_customer_count
    from rfm_segment_counts
    qualify row_number() over (partition by segment_id order by customer_count desc, rfm_segment asc) = 1
),

rfm_code_segment_counts as (
    select
        segment_id,
        rfm_code_segment,
        count(*) as customer_count
    from segmented_customers
    group by segment_id, rfm_code_segment
),

dominant_rfm_code_segments as (
    {#- counted apart: Spark does not rank by an aggregate in the qualify
        of a grouped select -#}
    select
        segment_id,
        rfm_code_segment as dominant_rfm_code_segment,
        customer_count as dominant_rfm_code_segment_customer_count
    from rfm_code_segment_counts
    qualify row_number() over (partition by segment_id order by customer_count desc, rfm_code_segment asc) = 1
),

final as (
    select
        cast(segment_stats.segment_id as integer) as segment_id,
        segment_personas.segment_name,
        segment_personas.persona_key,
        segment_personas.persona_name,
        segment_personas.persona_description,
        segment_personas.suggested_action,
        segment_personas.persona_rule,
        cast(segment_stats.customer_count as bigint) as customer_count,
        cast(segment_stats.customer_count / sum(segment_stats.customer_count) over () as double) as customer_share,
        cast(segment_stats.order_count as bigint) as order_count,
        cast(round(segment_stats.revenue, 2) as double) as revenue,
        cast(segment_stats.revenue / nullif(sum(segment_stats.revenue) over (), 0) as double) as revenue_share,
        cast(round(segment_stats.revenue / segment_stats.customer_count, 2) as double) as revenue_per_customer,
        cast(round(segment_stats.gross_sales_amount / segment_stats.order_count, 2) as double) as average_order_value,
        top_countries.top_country,
        cast(top_countries.top_country_customer_count / segment_stats.customer_count as double) as top_country_share,
        top_countries.top_countries,
        top_products.top_products,
        dominant_rfm_segments.dominant_rfm_segment,
        cast(
            dominant_rfm_segments.dominant_rfm_segment_customer_count / segment_stats.customer_count as double
        ) as dominant_rfm_segment_share,
        dominant_rfm_code_segments.dominant_rfm_code_segment,
        cast(
            dominant_rfm_code_segments.dominant_rfm_code_segment_customer_count / segment_stats.customer_count
            as double
        ) as dominant_rfm_code_segment_share,
        {%- for feature in profile_features %}
            cast(segment_stats.{{ feature }}_mean as double) as {{ feature }}_mean,
            cast(segment_stats.{{ feature }}_median as double) as {{ feature }}_median,
            segment_personas.{{ feature }}_z,
        {%- endfor %}
        segment_stats.model_version
    from segment_stats
    left join segment_personas
        on segment_stats.segment_id = segment_personas.segment_id
    left join top_countries
        on segment_stats.segment_id = top_countries.segment_id
    left join top_products
        on segment_stats.segment_id = top_products.segment_id
    left join dominant_rfm_segments
        on segment_stats.segment_id = dominant_rfm_segments.segment_id
    left join dominant_rfm_code_segments
        on segment_stats.segment_id = dominant_rfm_code_segments.segment_id
)

select * from final
