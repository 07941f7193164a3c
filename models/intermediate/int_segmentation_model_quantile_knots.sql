{#- The quantile scaler's knots, one row per model version, feature and knot
    (none unless segmentation.scaler is quantile): a value between knots
    i and i + 1 scales linearly onto [(i - 1) / (n - 1), i / (n - 1)]. -#}

with

final as (
    select
        model_version,
        feature,
        knot_number,
        knot_value
    from {{ ref('segmentation_model_artifacts') }}
    where artifact = 'quantile_knot'
)

select * from final
