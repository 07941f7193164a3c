{#- One row per segment of the selected model: its persona, named by the
    documented rules in the `segment_personas` doc from the centroid's
    z-scores against the whole customer population. -#}

with

customer_features as (
    select
        recency_days,
        frequency,
        monetary,
        avg_order_value,
        items_per_order,
        return_rate,
        weekend_order_share,
        tenure_days
    from {{ ref('customer_features') }}
),

segment_centroids as (
    select
        model_version,
        segment_id,
        feature,
        centroid_original
    from {{ ref('segment_centroids') }}
),

population as (
    {%- set persona_features = ['recency_days', 'frequency', 'monetary', 'avg_order_value',
        'items_per_order', 'return_rate', 'weekend_order_share', 'tenure_days'] %}
    {%- for feature in persona_features %}
    select
        '{{ feature }}' as feature,
        avg({{ feature }}) as population_mean,
        stddev_pop({{ feature }}) as population_std
    from customer_features
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

segment_ids as (
    select distinct
        model_version,
        segment_id
    from segment_centroids
),

z_scores as (
    select
        segment_ids.model_version,
        segment_ids.segment_id,
        population.feature,
        coalesce(
            (segment_centroids.centroid_original - population.population_mean)
            / nullif(population.population_std, 0),
            0
        ) as z_score
    from segment_ids
    cross join population
    left join segment_centroids
        on
            segment_ids.segment_id = segment_centroids.segment_id
            and population.feature = segment_centroids.feature
),

segment_z_scores as (
    {#- a feature the model did not use has no centroid: its z-score is 0 -#}
    select
        model_version,
        segment_id,
        {%- for feature in persona_features %}
        max(case when feature = '{{ feature }}' then z_score end) as {{ feature }}_z{{ "," if not loop.last }}
        {%- endfor %}
    from z_scores
    group by model_version, segment_id
),

named as (
    select
        *,
        case
            when recency_days_z <= -0.3 and frequency_z >= 0.5 and monetary_z >= 0.5 then 'champions'
            when recency_days_z >= 0.5 and (monetary_z >= 0.3 or frequency_z >= 0.3) then 'at_risk_high_value'
            when items_per_order_z >= 1.0 then 'bulk_buyers'
            when tenure_days_z <= -0.5 and recency_days_z <= -0.3 then 'newcomers'
            when recency_days_z >= 0.5 then 'lapsed'
            when weekend_order_share_z >= 1.0 then 'weekend_shoppers'
            when return_rate_z >= 1.0 then 'frequent_returners'
            when frequency_z >= 0.3 or monetary_z >= 0.3 then 'regulars'
            else 'occasional_buyers'
        end as persona_key
    from segment_z_scores
),

persona_texts as (
    select *
    from (
        values
        ('champions', 'Champions', 'Bought recently, buy often and spend the most.',
            'Reward and retain: loyalty perks, early access, referral asks; do not discount.'),
        ('at_risk_high_value', 'At risk, high value', 'Used to buy often or spend a lot, but not lately.',
            'Win back now: personal outreach and a tailored offer before they are lost.'),
        ('bulk_buyers', 'Bulk buyers', 'Large baskets of many units per order, typically resellers.',
            'Volume pricing, trade accounts and restock reminders.'),
        ('newcomers', 'Newcomers', 'First bought recently; short history so far.',
            'Onboarding journey and a second-purchase incentive.'),
        ('lapsed', 'Lapsed', 'Long since the last purchase, with little spend.',
            'Low-cost reactivation campaign, or suppress from paid channels.'),
        ('weekend_shoppers', 'Weekend shoppers', 'Shop mostly on Saturdays and Sundays.',
            'Time campaigns and stock drops for the weekend.'),
        ('frequent_returners', 'Frequent returners', 'Return a large share of what they buy.',
            'Review fit and product information; avoid return-heavy promotions.'),
        ('regulars', 'Regulars', 'Buy steadily with average baskets.',
            'Cross-sell and bundles to grow the basket.'),
        ('occasional_buyers', 'Occasional buyers', 'Buy now and then, with modest spend.',
            'Seasonal reminders and entry-price bestsellers.')
    ) as texts (persona_key, persona_name, persona_description, suggested_action)
),

numbered as (
    -- two segments with the same persona are told apart by a number, in segment order
    select
        named.*,
        persona_texts.persona_name,
        persona_texts.persona_description,
        persona_texts.suggested_action,
        row_number() over (partition by named.persona_key order by named.segment_id) as persona_rank
    from named
    inner join persona_texts
        on named.persona_key = persona_texts.persona_key
),

outlier_segment as (
    -- density models keep customers far from every segment apart, as segment 0
    select
        model_version,
        0 as segment_id,
        'outliers' as persona_key,
        'Outliers' as segment_name,
        'Far from every segment: unusual behaviour that fits no group.' as persona_description,
        'Review one by one; exclude from segment-level campaigns.' as suggested_action
    from {{ ref('segmentation_models') }}
    where has_outlier_segment
    qualify row_number() over (order by trained_at desc, model_version) = 1
),

final as (
    select
        model_version,
        segment_id,
        persona_key,
        persona_name
        || case when persona_rank > 1 then ' ' || cast(persona_rank as varchar) else '' end as segment_name,
        persona_description,
        suggested_action,
        recency_days_z,
        frequency_z,
        monetary_z,
        avg_order_value_z,
        items_per_order_z,
        return_rate_z,
        weekend_order_share_z,
        tenure_days_z
    from numbered
    union all
    select
        model_version,
        segment_id,
        persona_key,
        segment_name,
        persona_description,
        suggested_action,
        null as recency_days_z,
        null as frequency_z,
        null as monetary_z,
        null as avg_order_value_z,
        null as items_per_order_z,
        null as return_rate_z,
        null as weekend_order_share_z,
        null as tenure_days_z
    from outlier_segment
)

select * from final
