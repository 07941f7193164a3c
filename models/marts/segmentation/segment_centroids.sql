{#- The selected model's centroids, one row per segment and feature, with the
    feature transform beside them: everything needed to score a customer in
    SQL alone (see the score_customers macro), on any warehouse. -#}

with

latest_model as (
    select
        model_version,
        centroids,
        transform,
        segments
    from ({{ latest_registered_model() }}) as registered_model
),

centroids as (
    select
        model_version,
        unnest(centroids, recursive := true)  -- noqa: AL03
    from latest_model
),

transform as (
    select unnest(transform, recursive := true)  -- noqa: AL03
    from latest_model
),

segments as (
    select unnest(segments, recursive := true)  -- noqa: AL03
    from latest_model
),

final as (
    select
        centroids.model_version,
        centroids.segment_id,
        centroids.feature,
        transform.position as feature_position,
        centroids.centroid_scaled,
        centroids.centroid_original,
        segments.radius as segment_radius,
        transform.impute_value,
        transform.log_transform,
        transform.clip_low,
        transform.clip_high,
        transform.center,
        transform.scale,
        transform.quantile_knots
    from centroids
    inner join transform
        on centroids.feature = transform.feature
    inner join segments
        on centroids.segment_id = segments.segment_id
)

select * from final
