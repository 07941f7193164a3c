{#- One row per segment of the model in use: how far the segment's
    customers lie from the whole customer population on each feature the
    personas read, as z-scores (segment mean minus population mean, over the
    population's standard deviation) on the persona scale: a signed log for
    the heavily right-skewed features. segment_personas names the segments
    from these; kept as a table of its own so that engines that plan the
    whole query at once (Spark) plan the persona rules over a dozen rows,
    not over the customers. -#}

{%- set persona_features = persona_features() %}
{%- set log_scaled_features = ['recency_days', 'frequency', 'monetary', 'tenure_days', 'avg_order_value',
    'items_per_order', 'distinct_products', 'mean_days_between_orders'] %}


with

customer_features as (
    select
        {%- for feature in persona_features %}
            {{ feature }},
        {%- endfor %}
        customer_id
    from {{ ref('customer_features') }}
),

customer_assignments as (
    select
        customer_id,
        segment_id
    from {{ ref('int_customers_scored') }}
),

segments as (
    select
        segments.model_version,
        segments.segment_id
    from {{ ref('int_segmentation_model_segments') }} as segments
    inner join {{ ref('int_segmentation_model_in_use') }} as in_use
        on segments.model_version = in_use.model_version
),

persona_scale as (
    {#- signed log for skewed features, so a few huge customers do not
        dominate the mean and the spread -#}
    select
        {%- for feature in persona_features %}
            {%- if feature in log_scaled_features %}
                sign(customer_features.{{ feature }})
                * ln(1 + abs(customer_features.{{ feature }})) as {{ feature }},
            {%- else %}
                customer_features.{{ feature }},
            {%- endif %}
        {%- endfor %}
        customer_assignments.segment_id
    from customer_features
    inner join customer_assignments
        on customer_features.customer_id = customer_assignments.customer_id
),

population as (
    select
        {%- for feature in persona_features %}
            avg({{ feature }}) as {{ feature }}_mean,
            stddev_pop({{ feature }}) as {{ feature }}_std,
        {%- endfor %}
        count(*) as customer_count
    from persona_scale
),

segment_means as (
    select
        {%- for feature in persona_features %}
            avg({{ feature }}) as {{ feature }}_mean,
        {%- endfor %}
        segment_id,
        count(*) as customer_count
    from persona_scale
    group by segment_id
),

segment_z_scores as (
    {#- rounded to 3 decimals: the rules read exactly the values shown -#}
    select
        segments.model_version,
        segments.segment_id,
        {%- for feature in persona_features %}
            coalesce(
                round(
                    (segment_means.{{ feature }}_mean - population.{{ feature }}_mean)
                    / nullif(population.{{ feature }}_std, 0),
                    3
                ),
                0
            ) as {{ feature }}_z,
        {%- endfor %}
        coalesce(segment_means.customer_count, 0) as customer_count
    from segments
    cross join population
    left join segment_means
        on segments.segment_id = segment_means.segment_id
)

select
    model_version,
    segment_id,
    {%- for feature in persona_features %}
        {{ feature }}_z,
    {%- endfor %}
    customer_count
from segment_z_scores
