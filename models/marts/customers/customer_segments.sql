{#- One row per featurized customer: the segment the model in use assigns
    (nearest centroid, scored once in int_customers_scored), how confidently,
    and the rule-based RFM segment beside it. -#}

with

customer_features as (
    select
        customer_id,
        country,
        rfm_cell,
        rfm_segment,
        monetary,
        as_of_date
    from {{ ref('customer_features') }}
),

segment_personas as (
    select
        segment_id,
        segment_name,
        persona_key
    from {{ ref('segment_personas') }}
),

rfm_code_segments as (
    select
        rfm_cell,
        rfm_code_segment
    from {{ ref('rfm_code_segments') }}
),

scores as (
    select
        customer_id,
        model_version,
        segment_id,
        distance_to_centroid,
        second_segment_id,
        second_distance
    from {{ ref('int_customers_scored') }}
),

final as (
    select
        customer_features.customer_id,
        scores.segment_id,
        segment_personas.segment_name,
        segment_personas.persona_key,
        customer_features.rfm_segment,
        rfm_code_segments.rfm_code_segment,
        customer_features.rfm_cell,
        customer_features.country,
        scores.second_segment_id,
        round(scores.distance_to_centroid, 6) as distance_to_centroid,
        round(scores.second_distance, 6) as second_distance,
        round(scores.second_distance - scores.distance_to_centroid, 6) as distance_margin,
        round(1 - scores.distance_to_centroid / nullif(scores.second_distance, 0), 6) as assignment_confidence,
        customer_features.monetary,
        scores.model_version,
        customer_features.as_of_date
    from customer_features
    inner join scores
        on customer_features.customer_id = scores.customer_id
    left join segment_personas
        on scores.segment_id = segment_personas.segment_id
    left join rfm_code_segments
        on customer_features.rfm_cell = rfm_code_segments.rfm_cell
)

select * from final
