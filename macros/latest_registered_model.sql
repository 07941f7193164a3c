{#-
    latest_registered_model()

    A select of the segmentation model the build scores with: the latest row
    of the append-only registry `segmentation_models` (by training time, then
    by model version), with every registry column. The one place this rule
    is written in SQL; the Python models use
    segmentation.warehouse.latest_registered_model, which applies the same.
-#}
{% macro latest_registered_model() %}
    select *
    from {{ ref('segmentation_models') }}
    qualify row_number() over (order by trained_at desc, model_version asc) = 1
{% endmacro %}
