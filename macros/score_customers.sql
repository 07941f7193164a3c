{#-
    score_customers(features_relation, feature_names, transform_relation,
                    knots_relation, centroids_relation, segments_relation)

    Assigns every customer to the nearest segment centroid of one model, in
    plain SQL, from its flat artifacts (one row per feature, knot, centroid
    value and segment). Per feature, in this order (the formulas of
    segmentation.preprocessing.ColumnTransform):

      x = coalesce(value, impute_value)
      x = sign(x) * ln(1 + |x|)                  when log_transform
      x = least(greatest(x, clip_low), clip_high)
      scaled = (x - center) / scale              (robust or standard scaler)
      scaled = piecewise-linear through the quantile knots onto [0, 1]  (quantile)

    Distance is Euclidean over the model's features. A density model's
    segments carry a radius: a customer farther than the radius of its
    nearest segment goes to segment 0, the outliers.
    Called by int_customers_scored only: every customer is scored once.
    Returns customer_id, model_version, segment_id, distance_to_centroid,
    second_segment_id, second_distance.
-#}
{% macro score_customers(
    features_relation, feature_names, transform_relation, knots_relation, centroids_relation,
    segments_relation
) %}
    with

    feature_values as (
        {{- feature_values_long(features_relation, feature_names) }}
    ),

    clipped_values as (
        select
            feature_values.customer_id,
            transform.model_version,
            feature_values.feature,
            transform.center,
            transform.scale,
            least(
                greatest(
                    case
                        when transform.log_transform
                            then
                                sign(coalesce(feature_values.feature_value, transform.impute_value))
                                * ln(1 + abs(coalesce(feature_values.feature_value, transform.impute_value)))
                        else coalesce(feature_values.feature_value, transform.impute_value)
                    end,
                    transform.clip_low
                ),
                transform.clip_high
            ) as clipped_value
        from feature_values
        inner join {{ transform_relation }} as transform
            on feature_values.feature = transform.feature
    ),

    knot_counts as (
        select
            model_version,
            feature,
            count(*) as knot_count
        from {{ knots_relation }}
        group by model_version, feature
    ),

    knot_positions as (
        -- the last knot at or below the value (0 = below every knot)
        select
            clipped_values.customer_id,
            clipped_values.feature,
            coalesce(max(knots.knot_number), 0) as knot_index
        from clipped_values
        inner join knot_counts
            on
                clipped_values.model_version = knot_counts.model_version
                and clipped_values.feature = knot_counts.feature
        left join {{ knots_relation }} as knots
            on
                clipped_values.model_version = knots.model_version
                and clipped_values.feature = knots.feature
                and knots.knot_value <= clipped_values.clipped_value
        group by clipped_values.customer_id, clipped_values.feature
    ),

    scaled_values as (
        select
            clipped_values.customer_id,
            clipped_values.model_version,
            clipped_values.feature,
            case
                when knot_counts.knot_count is null then (clipped_values.clipped_value - clipped_values.center) / clipped_values.scale
                when knot_positions.knot_index = 0 then 0.0
                when knot_positions.knot_index >= knot_counts.knot_count then 1.0
                else (
                    (knot_positions.knot_index - 1)
                    + (clipped_values.clipped_value - lower_knot.knot_value)
                    / (upper_knot.knot_value - lower_knot.knot_value)
                ) / (knot_counts.knot_count - 1)
            end as scaled_value
        from clipped_values
        left join knot_counts
            on
                clipped_values.model_version = knot_counts.model_version
                and clipped_values.feature = knot_counts.feature
        left join knot_positions
            on
                clipped_values.customer_id = knot_positions.customer_id
                and clipped_values.feature = knot_positions.feature
        left join {{ knots_relation }} as lower_knot
            on
                clipped_values.model_version = lower_knot.model_version
                and clipped_values.feature = lower_knot.feature
                and knot_positions.knot_index = lower_knot.knot_number
        left join {{ knots_relation }} as upper_knot
            on
                clipped_values.model_version = upper_knot.model_version
                and clipped_values.feature = upper_knot.feature
                and knot_positions.knot_index + 1 = upper_knot.knot_number
    ),

    distances as (
        select
            scaled_values.customer_id,
            scaled_values.model_version,
            centroids.segment_id,
            sqrt(sum(power(scaled_values.scaled_value - centroids.centroid_scaled, 2))) as distance
        from scaled_values
        inner join {{ centroids_relation }} as centroids
            on
                scaled_values.model_version = centroids.model_version
                and scaled_values.feature = centroids.feature
        group by scaled_values.customer_id, scaled_values.model_version, centroids.segment_id
    ),

    ranked as (
        select
            distances.*,
            segments.radius as segment_radius,
            row_number() over (
                partition by distances.customer_id order by distances.distance, distances.segment_id
            ) as distance_rank
        from distances
        inner join {{ segments_relation }} as segments
            on
                distances.model_version = segments.model_version
                and distances.segment_id = segments.segment_id
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
