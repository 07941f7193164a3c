{#- The fitted feature transform, one row per model version and configured
    feature: the parameters of each used feature, or why it was dropped. -#}

with

final as (
    select
        model_version,
        feature,
        position as feature_position,
        drop_reason is null as is_used,
        drop_reason,
        impute_value,
        log_transform,
        clip_low,
        clip_high,
        center,
        scale
    from {{ ref('segmentation_model_artifacts') }}
    where artifact = 'feature'
)

select * from final
