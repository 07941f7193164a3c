{#- The clustering settings in force, as one row of JSON: the dbt var
    `segmentation` over the defaults of the macro segmentation_settings,
    every setting filled in, already checked by validate_settings before
    the build started. The Python model segmentation_model_artifacts reads
    them here, because a Python model cannot call macros and its YAML config
    cannot either: Python neither checks nor defaults a setting. -#}

select '{{ tojson(segmentation_settings()) | replace("'", "''") }}' as settings_json
