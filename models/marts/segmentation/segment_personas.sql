{#- One row per segment of the selected model: its persona (a short unique
    name, a one-line description and a suggested action), named by the
    documented rules in the `segment_personas` doc block from the z-scores
    of the segment's centroid against the whole customer population. -#}

{#- Every feature the persona rules and the profiles read, and those that
    are compared on a log scale because they are heavily right-skewed. -#}
{%- set persona_features = ['recency_days', 'frequency', 'monetary', 'tenure_days', 'avg_order_value',
    'items_per_order', 'distinct_products', 'return_rate', 'mean_days_between_orders',
    'weekend_order_share'] %}
{%- set log_scaled_features = ['recency_days', 'frequency', 'monetary', 'tenure_days', 'avg_order_value',
    'items_per_order', 'distinct_products', 'mean_days_between_orders'] %}

{#- The persona rules, in the order they are tried; the first whose rule
    holds names the segment. Rules read the z-scores below (columns
    <feature>_z). Keep the `segment_personas` doc block in step. -#}
{%- set personas = [
    {'key': 'champions', 'name': 'Champions',
        'rule': 'recency_days_z <= -0.5 and frequency_z >= 0.75 and monetary_z >= 0.75',
        'description': 'Bought recently, buy often and spend the most.',
        'action': 'Reward and retain: loyalty perks, early access and referral asks; no discounts needed.'},
    {'key': 'at_risk_high_value', 'name': 'At risk, high value',
        'rule': 'recency_days_z >= 0.5 and (frequency_z >= 0.3 or monetary_z >= 0.3)',
        'description': 'Used to buy often or spend a lot, but have not bought for a long time.',
        'action': 'Win back now: personal outreach and a tailored offer before they are lost.'},
    {'key': 'bulk_buyers', 'name': 'Bulk buyers',
        'rule': 'items_per_order_z >= 1.5',
        'description': 'Very large baskets of many units per order, typically resellers or businesses.',
        'action': 'Volume pricing, trade accounts and restock reminders timed to their re-order cycle.'},
    {'key': 'newcomers', 'name': 'Newcomers',
        'rule': 'tenure_days_z <= -1.0 and recency_days_z <= -0.5',
        'description': 'First bought recently; a short history so far.',
        'action': 'Onboarding journey and a second-purchase incentive.'},
    {'key': 'one_off_buyers', 'name': 'One-off buyers',
        'rule': 'frequency_z <= -0.8',
        'description': 'Bought once, or hardly more, with a small spend.',
        'action': 'Low-cost reactivation with bestsellers; drop from paid channels if they do not respond.'},
    {'key': 'lapsed', 'name': 'Lapsed',
        'rule': 'recency_days_z >= 0.5',
        'description': 'Long since the last purchase, with modest past spend.',
        'action': 'Low-cost win-back campaign, or suppress from paid channels.'},
    {'key': 'weekend_shoppers', 'name': 'Weekend shoppers',
        'rule': 'weekend_order_share_z >= 1.0',
        'description': 'Place most of their orders on Saturdays and Sundays.',
        'action': 'Time campaigns, emails and stock drops for the weekend.'},
    {'key': 'frequent_returners', 'name': 'Frequent returners',
        'rule': 'return_rate_z >= 1.0',
        'description': 'Return a large share of what they buy.',
        'action': 'Check fit and product information; keep them out of return-heavy promotions.'},
    {'key': 'loyal_regulars', 'name': 'Loyal regulars',
        'rule': 'frequency_z >= 0.5',
        'description': 'Buy more often than most, with steady spend.',
        'action': 'Cross-sell and bundles to grow the basket; invite them to the loyalty scheme.'},
    {'key': 'big_spenders', 'name': 'Big spenders',
        'rule': 'monetary_z >= 0.5',
        'description': 'Spend well above the typical customer over few orders.',
        'action': 'Premium ranges and personal recommendations to turn spend into a habit.'},
    {'key': 'recent_buyers', 'name': 'Recent buyers',
        'rule': 'recency_days_z <= -0.5',
        'description': 'Bought lately, but not yet often.',
        'action': 'Nurture toward a second and third order with timely follow-ups.'},
    {'key': 'occasional_buyers', 'name': 'Occasional buyers',
        'rule': 'true',
        'description': 'Buy now and then, with modest spend.',
        'action': 'Seasonal reminders and entry-price bestsellers.'},
] %}

{#- Words that tell apart segments sharing a persona: per feature, the word
    for a segment above the others with that persona, then below them. -#}
{%- set qualifiers = {
    'recency_days': ['less recent', 'more recent'],
    'frequency': ['more orders', 'fewer orders'],
    'monetary': ['higher spend', 'lower spend'],
    'tenure_days': ['longer-standing', 'newer'],
    'avg_order_value': ['larger orders', 'smaller orders'],
    'items_per_order': ['bigger baskets', 'smaller baskets'],
    'distinct_products': ['wider range', 'narrower range'],
    'return_rate': ['more returns', 'fewer returns'],
    'mean_days_between_orders': ['slower re-orders', 'faster re-orders'],
    'weekend_order_share': ['more weekend', 'more weekday'],
} %}

{#- Pre-rendered SQL lists, so the model reads as plain SQL and lints. -#}
{%- set persona_cases = [] %}
{%- set persona_rows = [] %}
{%- for persona in personas %}
    {%- do persona_cases.append("when " ~ persona.rule ~ " then '" ~ persona.key ~ "'") %}
    {%- do persona_rows.append(
        "('" ~ persona.key ~ "', '" ~ persona.name ~ "', '" ~ persona.rule ~ "', " ~ loop.index ~ ", "
        ~ sql_string_literal(persona.description) ~ ", " ~ sql_string_literal(persona.action) ~ ")"
    ) %}
{%- endfor %}
{%- set word_rows = [] %}
{%- for feature, words in qualifiers.items() %}
    {%- do word_rows.append("('" ~ feature ~ "', " ~ loop.index ~ ", '" ~ words[0] ~ "', '" ~ words[1] ~ "')") %}
{%- endfor %}

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
),

named as (
    select
        *,
        case
            when segment_id = 0 then 'outliers'
            {{ persona_cases | join('\n            ') }}
        end as persona_key
    from segment_z_scores
),

persona_texts as (
    select
        texts.persona_key,
        texts.persona_name,
        texts.persona_rule,
        texts.persona_rule_order,
        texts.persona_description,
        texts.suggested_action
    from (
        values
        {{ persona_rows | join(',\n        ') }},
        (
            'outliers', 'Outliers', 'segment_id = 0', 0,
            'Far from every segment: unusual behaviour that fits no group.',
            'Review one by one; exclude from segment-level campaigns.'
        )
    ) as texts (
        persona_key, persona_name, persona_rule, persona_rule_order, persona_description, suggested_action
    )
),

feature_z_scores as (
    {#- one row per segment and feature, for the segments that share their
        persona with another segment -#}
    select
        named.segment_id,
        named.persona_key,
        persona_texts.persona_rule,
        unnest(['{{ persona_features | join("', '") }}']) as feature,
        unnest([{{ persona_features | join('_z, ') }}_z]) as z_score
    from named
    inner join persona_texts
        on named.persona_key = persona_texts.persona_key
    where named.segment_id != 0
    qualify count(*) over (partition by named.persona_key) > 1
),

qualifier_words as (
    select
        words.feature,
        words.feature_position,
        words.word_above,
        words.word_below
    from (
        values
        {{ word_rows | join(',\n        ') }}
    ) as words (feature, feature_position, word_above, word_below)
),

feature_deviations as (
    {#- how far each feature's z-score lies from the mean of the segments
        with the same persona, for the features the persona's rule does not
        mention (those say nothing new) -#}
    select
        feature_z_scores.segment_id,
        qualifier_words.feature_position,
        qualifier_words.word_above,
        qualifier_words.word_below,
        feature_z_scores.z_score
        - avg(feature_z_scores.z_score) over (
            partition by feature_z_scores.persona_key, feature_z_scores.feature
        ) as deviation
    from feature_z_scores
    inner join qualifier_words
        on feature_z_scores.feature = qualifier_words.feature
    where feature_z_scores.persona_rule not like '%' || feature_z_scores.feature || '_z%'
),

segment_qualifiers as (
    select
        segment_id,
        case when deviation > 0 then word_above else word_below end as qualifier
    from feature_deviations
    qualify row_number() over (
        partition by segment_id
        order by abs(deviation) desc, feature_position asc
    ) = 1
),

qualified_names as (
    select
        named.*,
        persona_texts.persona_name,
        persona_texts.persona_rule,
        persona_texts.persona_rule_order,
        persona_texts.persona_description,
        persona_texts.suggested_action,
        persona_texts.persona_name
        || coalesce(' (' || segment_qualifiers.qualifier || ')', '') as qualified_name
    from named
    inner join persona_texts
        on named.persona_key = persona_texts.persona_key
    left join segment_qualifiers
        on named.segment_id = segment_qualifiers.segment_id
),

numbered as (
    {#- the last resort when qualified names still collide: a number in
        segment order -#}
    select
        *,
        row_number() over (partition by qualified_name order by segment_id) as name_rank
    from qualified_names
),

final as (
    select
        model_version,
        cast(segment_id as integer) as segment_id,
        qualified_name
        || case when name_rank > 1 then ' ' || cast(name_rank as varchar) else '' end as segment_name,
        persona_key,
        persona_name,
        persona_description,
        suggested_action,
        persona_rule,
        cast(persona_rule_order as integer) as persona_rule_order,
        {%- for feature in persona_features %}
            cast({{ feature }}_z as double) as {{ feature }}_z,
        {%- endfor %}
        cast(customer_count as bigint) as customer_count
    from numbered
)

select * from final
