{#- The model registry, one row per model version ever fitted: settings,
    selection, training data, and when it was in use. Read from the Python
    fit's flat rows (segmentation_model_artifacts); kept across
    `--full-refresh` because the fit's table is. -#}

with

artifacts as (
    select
        model_version,
        artifact,
        recorded_at,
        training_reason,
        data_fingerprint,
        trained_at,
        training_cutoff_date,
        training_customers,
        settings_json,
        algorithm,
        parameters_json,
        n_segments,
        has_outlier_segment,
        selection_rule,
        selection_fallback,
        selection_note
    from {{ ref('segmentation_model_artifacts') }}
    where artifact in ('model', 'use')
),

features as (
    select
        model_version,
        {{ string_agg_ordered("case when is_used then feature end", ', ', 'feature_position') }} as features_used,
        {{ string_agg_ordered("case when not is_used then feature || ': ' || drop_reason end", '; ', 'feature') }}
            as features_dropped
    from {{ ref('int_segmentation_model_features') }}
    group by model_version
),

uses as (
    select
        model_version,
        count(*) as times_put_in_use,
        max(recorded_at) as last_put_in_use_at
    from artifacts
    where artifact = 'use'
    group by model_version
),

first_uses as (
    select
        model_version,
        training_reason,
        row_number() over (partition by model_version order by recorded_at) as use_number
    from artifacts
    where artifact = 'use'
),

final as (
    select
        artifacts.model_version,
        artifacts.data_fingerprint,
        artifacts.trained_at,
        artifacts.training_cutoff_date,
        artifacts.training_customers,
        artifacts.settings_json,
        artifacts.algorithm,
        artifacts.parameters_json,
        artifacts.n_segments,
        artifacts.has_outlier_segment,
        artifacts.selection_rule,
        artifacts.selection_fallback,
        artifacts.selection_note,
        features.features_used,
        features.features_dropped,
        first_uses.training_reason,
        uses.times_put_in_use,
        uses.last_put_in_use_at,
        artifacts.model_version = in_use.model_version as is_in_use
    from artifacts
    inner join features
        on artifacts.model_version = features.model_version
    inner join uses
        on artifacts.model_version = uses.model_version
    inner join first_uses
        on
            artifacts.model_version = first_uses.model_version
            and first_uses.use_number = 1
    cross join {{ ref('int_segmentation_model_in_use') }} as in_use
    where artifacts.artifact = 'model'
)

select * from final
