{#-
    feature_psi(model_versions, reference_bins, feature_transform)

    The one home of the drift measure: a query of one row per model version
    of `model_versions` and feature it keeps a reference for, with the
    Population Stability Index of the current customer_features against the
    model's training reference bins:

        PSI = sum over bins (current share - reference share)
                            x ln(current share / reference share)

    Current values are filled with the model's training median where
    missing (as the reference was), binned with the stored edges (bin i
    holds bin_lower_i <= x < bin_lower_(i+1); values below the first edge
    belong to bin 1, values from the last edge up to the last bin), and both
    shares are floored at 0.0001 so an empty bin stays finite. A feature the
    current data lack gets every current share at the floor: a large PSI.

    Arguments are relations or CTE names:
    - model_versions: column model_version (the models to measure);
    - reference_bins: model_version, feature, bin_number (from 1), bin_lower,
      reference_share;
    - feature_transform: model_version, feature, is_used, impute_value.
    Columns out: model_version, feature, psi, reference_bin_count,
    current_mean (of the filled values).
-#}
{% macro feature_psi(model_versions, reference_bins, feature_transform) -%}
    {%- set customer_features = ref('customer_features') -%}
    {%- set psi_epsilon = 0.0001 -%}
    with

    psi_reference_bins as (
        select
            bins.model_version,
            bins.feature,
            bins.bin_number,
            bins.bin_lower,
            bins.reference_share
        from {{ reference_bins }} as bins
        inner join {{ model_versions }} as versions
            on bins.model_version = versions.model_version
    ),

    psi_imputation as (
        select
            transform.model_version,
            transform.feature,
            transform.impute_value
        from {{ feature_transform }} as transform
        inner join {{ model_versions }} as versions
            on transform.model_version = versions.model_version
        where transform.is_used
    ),

    psi_current_values as (
        {{- feature_values_long(customer_features, numeric_columns('customer_features')) }}
    ),

    psi_imputed as (
        select
            psi_imputation.model_version,
            psi_current_values.customer_id,
            psi_current_values.feature,
            coalesce(psi_current_values.feature_value, psi_imputation.impute_value) as feature_value
        from psi_current_values
        inner join psi_imputation
            on psi_current_values.feature = psi_imputation.feature
    ),

    psi_binned as (
        select
            psi_imputed.model_version,
            psi_imputed.feature,
            psi_imputed.customer_id,
            coalesce(max(psi_reference_bins.bin_number), 1) as bin_number
        from psi_imputed
        left join psi_reference_bins
            on
                psi_imputed.model_version = psi_reference_bins.model_version
                and psi_imputed.feature = psi_reference_bins.feature
                and psi_imputed.feature_value >= psi_reference_bins.bin_lower
        group by psi_imputed.model_version, psi_imputed.feature, psi_imputed.customer_id
    ),

    psi_current_shares as (
        select
            model_version,
            feature,
            bin_number,
            count(*) * 1.0 / sum(count(*)) over (partition by model_version, feature) as current_share
        from psi_binned
        group by model_version, feature, bin_number
    ),

    psi_terms as (
        select
            psi_reference_bins.model_version,
            psi_reference_bins.feature,
            greatest(psi_reference_bins.reference_share, {{ psi_epsilon }}) as reference_share,
            greatest(coalesce(psi_current_shares.current_share, 0), {{ psi_epsilon }}) as current_share
        from psi_reference_bins
        left join psi_current_shares
            on
                psi_reference_bins.model_version = psi_current_shares.model_version
                and psi_reference_bins.feature = psi_current_shares.feature
                and psi_reference_bins.bin_number = psi_current_shares.bin_number
    ),

    psi_by_feature as (
        select
            model_version,
            feature,
            sum((current_share - reference_share) * ln(current_share / reference_share)) as psi,
            count(*) as reference_bin_count
        from psi_terms
        group by model_version, feature
    ),

    psi_current_means as (
        select
            model_version,
            feature,
            avg(feature_value) as current_mean
        from psi_imputed
        group by model_version, feature
    )

    select
        psi_by_feature.model_version,
        psi_by_feature.feature,
        psi_by_feature.psi,
        psi_by_feature.reference_bin_count,
        psi_current_means.current_mean
    from psi_by_feature
    left join psi_current_means
        on
            psi_by_feature.model_version = psi_current_means.model_version
            and psi_by_feature.feature = psi_current_means.feature
{%- endmacro %}
