{#- Every featurized customer scored once, with the model in use: nearest
    centroid, distance, runner-up. The only caller of score_customers;
    customer_segments, segment_personas and the monitoring read this. -#}

with

model_in_use as (
    select model_version
    from {{ ref('int_segmentation_model_in_use') }}
),

transform as (
    select
        features.model_version,
        features.feature,
        features.impute_value,
        features.log_transform,
        features.clip_low,
        features.clip_high,
        features.center,
        features.scale
    from {{ ref('int_segmentation_model_features') }} as features
    inner join model_in_use
        on features.model_version = model_in_use.model_version
    where features.is_used
),

knots as (
    select
        knots.model_version,
        knots.feature,
        knots.knot_number,
        knots.knot_value
    from {{ ref('int_segmentation_model_quantile_knots') }} as knots
    inner join model_in_use
        on knots.model_version = model_in_use.model_version
),

centroids as (
    select
        centroids.model_version,
        centroids.segment_id,
        centroids.feature,
        centroids.centroid_scaled
    from {{ ref('int_segmentation_model_centroids') }} as centroids
    inner join model_in_use
        on centroids.model_version = model_in_use.model_version
),

segments as (
    select
        segments.model_version,
        segments.segment_id,
        segments.radius
    from {{ ref('int_segmentation_model_segments') }} as segments
    inner join model_in_use
        on segments.model_version = model_in_use.model_version
),

scores as (
    {{ score_customers(
        ref('customer_features'), numeric_columns('customer_features'),
        'transform', 'knots', 'centroids', 'segments'
    ) }}
)

select * from scores
