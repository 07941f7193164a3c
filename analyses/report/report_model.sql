{#- Report: the model the build scores with (int_segmentation_model_in_use),
    one row: its version, training cut-off and size, algorithm and
    parameters, number of segments, the selection rule and any fallback or
    note, and the settings it was fitted with (settings_json). -#}

with

in_use as (
    select model_version
    from {{ ref('int_segmentation_model_in_use') }}
),

segmentation_models as (
    select
        model_version,
        trained_at,
        training_cutoff_date,
        training_customers,
        algorithm,
        parameters_json,
        n_segments,
        has_outlier_segment,
        selection_rule,
        selection_fallback,
        selection_note,
        settings_json
    from {{ ref('segmentation_models') }}
),

final as (
    select segmentation_models.*
    from segmentation_models
    inner join in_use
        on segmentation_models.model_version = in_use.model_version
)

select * from final
