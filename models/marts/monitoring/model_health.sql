{#- One row per run: which model scored the customers, how old it is, how
    far the features have drifted from its training data, and the verdict
    (ok / watch / retrain, macro retrain_verdict: the rule `auto` retrains
    by) with the reason. Appended on every run. -#}

{{ config(materialized='incremental', full_refresh=false) }}

{%- set thresholds = monitoring_settings() %}
{%- set run_started = "cast('" ~ run_started_at ~ "' as " ~ type_timestamp_with_time_zone() ~ ")" %}

with

latest_model as (
    select
        registry.model_version,
        registry.trained_at,
        registry.training_cutoff_date,
        in_use.training_reason
    from {{ ref('int_segmentation_model_in_use') }} as in_use
    inner join {{ ref('segmentation_models') }} as registry
        on in_use.model_version = registry.model_version
),

as_of as (
    select max(as_of_date) as as_of_date
    from {{ ref('customer_features') }}
),

drift as (
    select
        count(*) filter (where drift_status = 'watch') as features_to_watch,
        count(*) filter (where drift_status = 'act') as features_to_act_on,
        max(psi) as max_psi,
        max_by(feature, psi) as max_psi_feature
    from {{ ref('feature_drift') }}
),

segments as (
    select
        max(current_silhouette) as current_silhouette,
        max(abs(share_change)) as max_segment_share_change
    from {{ ref('segment_drift') }}
),

assessed as (
    select
        latest_model.model_version,
        latest_model.trained_at >= {{ run_started }} as retrained_this_run,
        latest_model.training_reason,
        latest_model.training_cutoff_date,
        as_of.as_of_date,
        {{ dbt.datediff('latest_model.training_cutoff_date', 'as_of.as_of_date', 'day') }} as model_age_days,
        drift.max_psi,
        drift.max_psi_feature,
        drift.features_to_watch,
        drift.features_to_act_on,
        segments.current_silhouette,
        segments.max_segment_share_change
    from latest_model
    cross join as_of
    cross join drift
    cross join segments
),

final as (
    select
        '{{ invocation_id }}' as invocation_id,
        model_version,
        {{ retrain_verdict('max_psi', 'model_age_days') }} as verdict,
        concat_ws(
            '; ',
            case when retrained_this_run then 'retrained this run (' || training_reason || ')' end,
            case
                when {{ drift_reaches('max_psi', 'psi_retrain') }}
                    then 'PSI ' || round(max_psi, 3) || ' on ' || max_psi_feature || ' >= {{ thresholds.psi_retrain }}'
                when {{ drift_reaches('max_psi', 'psi_watch') }}
                    then 'PSI ' || round(max_psi, 3) || ' on ' || max_psi_feature || ' >= {{ thresholds.psi_watch }}'
                else 'largest PSI ' || round(max_psi, 3) || ' on ' || max_psi_feature
            end,
            case
                when {{ model_is_too_old('model_age_days') }}
                    then 'model data ' || model_age_days || ' days old > {{ thresholds.max_model_age_days }}'
            end
        ) as verdict_reason,
        max_psi_feature,
        max_psi,
        features_to_watch,
        features_to_act_on,
        current_silhouette,
        max_segment_share_change,
        model_age_days,
        retrained_this_run,
        training_cutoff_date,
        as_of_date,
        {{ run_started }} as run_started_at
    from assessed
)

select * from final
