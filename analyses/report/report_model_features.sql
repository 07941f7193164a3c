{#- Report: the features the latest model considered, one row each: used
    (in the model's order) or dropped, with the reason it was dropped (for
    example a correlation with a feature kept). -#}

with

latest_model as (
    {{ latest_registered_model() }}
),

used as (
    select
        unnest(features_used) as feature,
        generate_subscripts(features_used, 1) as feature_position
    from latest_model
),

dropped as (
    select unnest(features_dropped, recursive := true)
    from latest_model
),

final as (
    select
        feature,
        feature_position,
        true as is_used,
        cast(null as varchar) as drop_reason
    from used
    union all
    select
        feature,
        null as feature_position,
        false as is_used,
        reason as drop_reason
    from dropped
    order by is_used desc, feature_position asc, feature asc
)

select * from final
