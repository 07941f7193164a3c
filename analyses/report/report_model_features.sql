{#- Report: the features the model in use considered, one row each: used
    (in the model's order) or dropped, with the reason it was dropped (for
    example a correlation with a feature kept). -#}

with

in_use as (
    select model_version
    from {{ ref('int_segmentation_model_in_use') }}
),

model_features as (
    select
        model_version,
        feature,
        feature_position,
        is_used,
        drop_reason
    from {{ ref('int_segmentation_model_features') }}
),

final as (
    select
        model_features.feature,
        model_features.feature_position,
        model_features.is_used,
        model_features.drop_reason
    from model_features
    inner join in_use
        on model_features.model_version = in_use.model_version
    order by model_features.is_used desc, model_features.feature_position asc, model_features.feature asc
)

select * from final
