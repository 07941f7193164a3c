{#- BI: a win-back list. Customers of the at-risk persona (var
    target_persona, default at_risk_high_value) or of the at-risk RFM
    segments (var target_rfm_segments), the most valuable first (monetary,
    net of returns), at most var target_limit (default 100). flagged_by says
    which rule found each customer: a model without an at-risk segment still
    yields the RFM list. -#}

{%- set target_persona = var('target_persona', 'at_risk_high_value') %}
{%- set target_rfm_segments = var('target_rfm_segments', ['At Risk', "Can't Lose Them"]) %}
{%- set target_limit = var('target_limit', 100) %}
{%- set quoted_rfm_segments = [] %}
{%- for rfm_segment in target_rfm_segments %}
    {%- do quoted_rfm_segments.append("'" ~ rfm_segment | replace("'", "''") ~ "'") %}
{%- endfor %}

with

customer_segments as (
    select
        customer_id,
        segment_id,
        segment_name,
        persona_key,
        rfm_segment,
        country
    from {{ ref('customer_segments') }}
),

customer_features as (
    select
        customer_id,
        recency_days,
        frequency,
        monetary,
        last_purchase_date
    from {{ ref('customer_features') }}
),

flagged as (
    select
        customer_segments.*,
        customer_segments.persona_key = '{{ target_persona }}' as is_target_persona,
        customer_segments.rfm_segment in ({{ quoted_rfm_segments | join(', ') }}) as is_target_rfm_segment
    from customer_segments
),

final as (
    select
        flagged.customer_id,
        flagged.segment_id,
        flagged.segment_name,
        flagged.rfm_segment,
        flagged.country,
        case
            when flagged.is_target_persona and flagged.is_target_rfm_segment then 'segment and rfm'
            when flagged.is_target_persona then 'segment'
            else 'rfm'
        end as flagged_by,
        customer_features.recency_days,
        customer_features.frequency,
        customer_features.monetary,
        customer_features.last_purchase_date
    from flagged
    inner join customer_features
        on flagged.customer_id = customer_features.customer_id
    where flagged.is_target_persona or flagged.is_target_rfm_segment
    order by customer_features.monetary desc, flagged.customer_id asc
    limit {{ target_limit }}
)

select * from final
