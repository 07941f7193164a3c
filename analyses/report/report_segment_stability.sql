{#- Report: how stable each segment of the model in use is under bootstrap
    resampling: the mean Jaccard similarity with its best match over the
    refits (0 to 1) and whether it falls below the instability line
    (setting jaccard_unstable_below). -#}

with

in_use as (
    select model_version
    from {{ ref('int_segmentation_model_in_use') }}
),

model_segments as (
    select
        model_version,
        segment_id,
        jaccard_stability,
        is_unstable
    from {{ ref('int_segmentation_model_segments') }}
),

final as (
    select
        model_segments.segment_id,
        model_segments.jaccard_stability,
        coalesce(model_segments.is_unstable, false) as is_unstable
    from model_segments
    inner join in_use
        on model_segments.model_version = in_use.model_version
    order by model_segments.segment_id
)

select * from final
