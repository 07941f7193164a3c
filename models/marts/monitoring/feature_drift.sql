{#- Per feature of the model in use: the Population Stability Index of the
    current customer features against the model's training reference bins,
    with a watch / act flag; see the `feature_drift` doc. -#}

{%- set psi_epsilon = 0.0001 %}
{%- set customer_features = ref('customer_features') %}

with

in_use as (
    select model_version
    from {{ ref('int_segmentation_model_in_use') }}
),

reference_bins as (
    select
        bins.model_version,
        bins.feature,
        bins.bin_number,
        bins.bin_lower,
        bins.reference_share
    from {{ ref('int_segmentation_model_reference_bins') }} as bins
    inner join in_use
        on bins.model_version = in_use.model_version
),

imputation as (
    select
        features.feature,
        features.impute_value
    from {{ ref('int_segmentation_model_features') }} as features
    inner join in_use
        on features.model_version = in_use.model_version
    where features.is_used
),

current_values as (
    {%- for feature in numeric_columns('customer_features') %}
        select
            customer_id,
            '{{ feature }}' as feature,
            cast({{ feature }} as double) as feature_value
        from {{ ref('customer_features') }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

imputed as (
    select
        current_values.customer_id,
        current_values.feature,
        coalesce(current_values.feature_value, imputation.impute_value) as feature_value
    from current_values
    inner join imputation
        on current_values.feature = imputation.feature
),

binned as (
    -- bin i holds lower_i <= x < lower_(i+1); values below the first bin
    -- belong to it, values from the last upper edge up to the last bin
    select
        imputed.feature,
        imputed.customer_id,
        coalesce(max(reference_bins.bin_number), 1) as bin_number
    from imputed
    left join reference_bins
        on
            imputed.feature = reference_bins.feature
            and imputed.feature_value >= reference_bins.bin_lower
    group by imputed.feature, imputed.customer_id
),

current_shares as (
    select
        feature,
        bin_number,
        count(*) * 1.0 / sum(count(*)) over (partition by feature) as current_share
    from binned
    group by feature, bin_number
),

psi_terms as (
    select
        reference_bins.model_version,
        reference_bins.feature,
        greatest(reference_bins.reference_share, {{ psi_epsilon }}) as reference_share,
        greatest(coalesce(current_shares.current_share, 0), {{ psi_epsilon }}) as current_share
    from reference_bins
    left join current_shares
        on
            reference_bins.feature = current_shares.feature
            and reference_bins.bin_number = current_shares.bin_number
),

psi as (
    select
        model_version,
        feature,
        sum((current_share - reference_share) * ln(current_share / reference_share)) as psi,
        count(*) as reference_bin_count
    from psi_terms
    group by model_version, feature
),

current_stats as (
    select
        feature,
        avg(feature_value) as current_mean
    from imputed
    group by feature
),

final as (
    select
        psi.model_version,
        psi.feature,
        psi.psi,
        case
            when psi.psi >= {{ var('monitoring').get('psi_retrain', 0.25) }} then 'act'
            when psi.psi >= {{ var('monitoring').get('psi_watch', 0.1) }} then 'watch'
            else 'ok'
        end as drift_status,
        psi.reference_bin_count,
        current_stats.current_mean
    from psi
    inner join current_stats
        on psi.feature = current_stats.feature
)

select * from final
