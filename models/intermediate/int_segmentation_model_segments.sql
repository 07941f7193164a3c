{#- The fitted segments, one row per model version and segment (0 = the
    outliers of a density model): training size and share, outlier radius
    and bootstrap stability. -#}

with

final as (
    select
        model_version,
        segment_id,
        segment_size,
        segment_share,
        radius,
        jaccard_stability,
        is_unstable
    from {{ ref('segmentation_model_artifacts') }}
    where artifact = 'segment'
)

select * from final
