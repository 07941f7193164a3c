{#-
    model_in_use(artifacts)

    The one home of "the model in use": a query of one row (none when no
    model was ever put in use) naming the registered version with the latest
    `use` row of the artifacts relation `artifacts` (a new fit, or a
    registered version reused on data it was fitted on before); ties on the
    time go to the smaller version. Columns: model_version, in_use_since,
    training_reason.

    int_segmentation_model_in_use applies it to the registry after this
    build's fit; int_segmentation_retrain_decision to the registry as it was
    before it.
-#}
{% macro model_in_use(artifacts) -%}
    select
        uses.model_version,
        uses.recorded_at as in_use_since,
        uses.training_reason
    from (
        select
            model_version,
            recorded_at,
            training_reason,
            row_number() over (order by recorded_at desc, model_version asc) as use_rank
        from {{ artifacts }}
        where artifact = 'use'
    ) as uses
    where uses.use_rank = 1
{%- endmacro %}
