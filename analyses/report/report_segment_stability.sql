{#- Report: how stable each segment of the latest model is under bootstrap
    resampling: the mean Jaccard similarity with its best match over the
    refits (0 to 1) and whether it falls below the instability line
    (setting jaccard_unstable_below). -#}

with

latest_model as (
    {{ latest_registered_model() }}
),

segments as (
    select unnest(segments, recursive := true)
    from latest_model
),

final as (
    select
        segment_id,
        jaccard_stability,
        coalesce(is_unstable, false) as is_unstable
    from segments
    order by segment_id
)

select * from final
