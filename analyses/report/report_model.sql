{#- Report: the model the build scores with (the latest registered model),
    one row: its version, training cut-off and size, algorithm and
    parameters, number of segments, the selection rule and any fallback or
    note, and the settings it was fitted with (settings_json). -#}

with

latest_model as (
    {{ latest_registered_model() }}
),

final as (
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
    from latest_model
)

select * from final
