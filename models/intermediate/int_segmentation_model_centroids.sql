{#- The fitted centroids, one row per model version, segment and feature, in
    the scaled space distances are measured in and in the feature's units. -#}

with

final as (
    select
        model_version,
        segment_id,
        feature,
        centroid_scaled,
        centroid_original
    from {{ ref('segmentation_model_artifacts') }}
    where artifact = 'centroid'
)

select * from final
