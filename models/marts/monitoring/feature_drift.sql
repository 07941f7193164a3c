{#- Per feature of the model in use: the Population Stability Index of the
    current customer features against the model's training reference bins
    (macro feature_psi, the one home of the measure), with a watch / act
    flag from the monitoring thresholds (macro drift_reaches); see the
    `feature_drift` doc. -#}

with

in_use as (
    select model_version
    from {{ ref('int_segmentation_model_in_use') }}
),

reference_bins as (
    select
        model_version,
        feature,
        bin_number,
        bin_lower,
        reference_share
    from {{ ref('int_segmentation_model_reference_bins') }}
),

feature_transform as (
    select
        model_version,
        feature,
        is_used,
        impute_value
    from {{ ref('int_segmentation_model_features') }}
),

drift as (
    {{ feature_psi('in_use', 'reference_bins', 'feature_transform') }}
),

final as (
    select
        model_version,
        feature,
        psi,
        case
            when {{ drift_reaches('psi', 'psi_retrain') }} then 'act'
            when {{ drift_reaches('psi', 'psi_watch') }} then 'watch'
            else 'ok'
        end as drift_status,
        reference_bin_count,
        current_mean
    from drift
)

select * from final
