{#-
    score_customers(features_relation, centroids_relation, feature_names)

    Assigns every customer to the nearest segment centroid in the model's
    scaled feature space, in SQL alone, from the artifacts in
    segment_centroids. Per feature, in this order (the same formulas the
    Python fit uses):

      x = coalesce(value, impute_value)
      x = sign(x) * ln(1 + |x|)                  when log_transform
      x = least(greatest(x, clip_low), clip_high)
      scaled = (x - center) / scale              (robust or standard scaler)
      scaled = piecewise-linear through quantile_knots onto [0, 1]  (quantile)

    Distance is Euclidean over the model's features. A density model's
    segments carry a radius: a customer farther than the radius of its
    nearest segment goes to segment 0, the outliers.
    Returns customer_id, model_version, segment_id, distance_to_centroid,
    second_segment_id, second_distance.
-#}
{% macro score_customers(features_relation, centroids_relation, feature_names) %}
    with

    feature_values as (
        {%- if feature_names | length == 0 %}
        {#- nothing to score with (only while dbt compiles without a warehouse) -#}
        select
            cast(null as varchar) as customer_id,
            cast(null as varchar) as feature,
            cast(null as double) as feature_value
        where false
        {%- endif %}
        {%- for feature in feature_names %}
        select
            customer_id,
            '{{ feature }}' as feature,
            cast({{ feature }} as double) as feature_value
        from {{ features_relation }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ),

    feature_transform as (
        select distinct
            model_version,
            feature,
            impute_value,
            log_transform,
            clip_low,
            clip_high,
            center,
            scale,
            quantile_knots
        from {{ centroids_relation }}
    ),

    clipped_values as (
        select
            feature_values.customer_id,
            feature_transform.model_version,
            feature_values.feature,
            feature_transform.center,
            feature_transform.scale,
            feature_transform.quantile_knots,
            least(
                greatest(
                    case
                        when feature_transform.log_transform
                            then
                                sign(coalesce(feature_values.feature_value, feature_transform.impute_value))
                                * ln(1 + abs(coalesce(feature_values.feature_value, feature_transform.impute_value)))
                        else coalesce(feature_values.feature_value, feature_transform.impute_value)
                    end,
                    feature_transform.clip_low
                ),
                feature_transform.clip_high
            ) as clipped_value
        from feature_values
        inner join feature_transform
            on feature_values.feature = feature_transform.feature
    ),

    knot_positions as (
        select
            *,
            -- the last knot at or below the value (0 = below every knot)
            len(list_filter(quantile_knots, knot -> knot <= clipped_value)) as knot_index,
            len(quantile_knots) as knot_count
        from clipped_values
    ),

    scaled_values as (
        select
            customer_id,
            model_version,
            feature,
            case
                when quantile_knots is null then (clipped_value - center) / scale
                when knot_index = 0 then 0.0
                when knot_index >= knot_count then 1.0
                else (
                    (knot_index - 1)
                    + (clipped_value - quantile_knots[knot_index])
                    / (quantile_knots[knot_index + 1] - quantile_knots[knot_index])
                ) / (knot_count - 1)
            end as scaled_value
        from knot_positions
    ),

    distances as (
        select
            scaled_values.customer_id,
            scaled_values.model_version,
            centroids.segment_id,
            max(centroids.segment_radius) as segment_radius,
            sqrt(sum(power(scaled_values.scaled_value - centroids.centroid_scaled, 2))) as distance
        from scaled_values
        inner join {{ centroids_relation }} as centroids
            on scaled_values.feature = centroids.feature
        group by scaled_values.customer_id, scaled_values.model_version, centroids.segment_id
    ),

    ranked as (
        select
            *,
            row_number() over (partition by customer_id order by distance, segment_id) as distance_rank
        from distances
    ),

    final as (
        select
            nearest.customer_id,
            nearest.model_version,
            case
                when nearest.segment_radius is not null and nearest.distance > nearest.segment_radius then 0
                else nearest.segment_id
            end as segment_id,
            nearest.distance as distance_to_centroid,
            runner_up.segment_id as second_segment_id,
            runner_up.distance as second_distance
        from ranked as nearest
        left join ranked as runner_up
            on
                nearest.customer_id = runner_up.customer_id
                and runner_up.distance_rank = 2
        where nearest.distance_rank = 1
    )

    select * from final
{% endmacro %}
