{#- One row per segment of the model in use: its share of customers at
    training and now, the change, and the simplified (centroid) silhouette
    of today's customers under the frozen model, from the one scoring in
    int_customers_scored: no customer is scored again here. -#}

with

in_use as (
    select model_version
    from {{ ref('int_segmentation_model_in_use') }}
),

training as (
    select
        segments.model_version,
        segments.segment_id,
        segments.segment_share as training_share
    from {{ ref('int_segmentation_model_segments') }} as segments
    inner join in_use
        on segments.model_version = in_use.model_version
),

scored as (
    select
        segment_id,
        distance_to_centroid,
        second_distance
    from {{ ref('int_customers_scored') }}
),

current_shares as (
    select
        segment_id,
        count(*) * 1.0 / sum(count(*)) over () as current_share
    from scored
    group by segment_id
),

silhouette as (
    -- per customer (b - a) / max(a, b), a = distance to the nearest centroid,
    -- b = distance to the runner-up: the centroid form of the silhouette
    select
        avg(
            (second_distance - distance_to_centroid)
            / nullif(greatest(distance_to_centroid, second_distance), 0)
        ) as current_silhouette
    from scored
    where second_distance is not null
),

segments as (
    select segment_id from training
    union
    select segment_id from current_shares
),

final as (
    select
        in_use.model_version,
        cast(segments.segment_id as integer) as segment_id,
        coalesce(training.training_share, 0) as training_share,
        coalesce(current_shares.current_share, 0) as current_share,
        coalesce(current_shares.current_share, 0) - coalesce(training.training_share, 0) as share_change,
        silhouette.current_silhouette
    from segments
    cross join in_use
    cross join silhouette
    left join training
        on segments.segment_id = training.segment_id
    left join current_shares
        on segments.segment_id = current_shares.segment_id
)

select * from final
