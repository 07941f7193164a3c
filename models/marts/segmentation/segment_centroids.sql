{#- The centroids of the model in use, one row per segment and feature, with
    the feature transform beside them (the quantile scaler's knots are in
    int_segmentation_model_quantile_knots). -#}

with

in_use as (
    select model_version
    from {{ ref('int_segmentation_model_in_use') }}
),

final as (
    select
        centroids.model_version,
        centroids.segment_id,
        centroids.feature,
        features.feature_position,
        centroids.centroid_scaled,
        centroids.centroid_original,
        segments.radius as segment_radius,
        features.impute_value,
        features.log_transform,
        features.clip_low,
        features.clip_high,
        features.center,
        features.scale
    from {{ ref('int_segmentation_model_centroids') }} as centroids
    inner join in_use
        on centroids.model_version = in_use.model_version
    inner join {{ ref('int_segmentation_model_features') }} as features
        on
            centroids.model_version = features.model_version
            and centroids.feature = features.feature
    inner join {{ ref('int_segmentation_model_segments') }} as segments
        on
            centroids.model_version = segments.model_version
            and centroids.segment_id = segments.segment_id
)

select * from final
