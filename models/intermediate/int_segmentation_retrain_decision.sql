{#- Whether this build fits a new model, and why: one row, read by the
    Python fit (segmentation_model_artifacts), which runs after it. The
    dbt var segmentation_mode decides with the registry as it was before
    this build:

    - no model in use yet: fit (`score` stops with a clear error instead);
    - `retrain`: fit; `score`: never fit;
    - `auto`: fit when the model in use has the verdict 'retrain' (macro
      retrain_verdict: drift PSI at least monitoring.psi_retrain, or
      training data older than monitoring.max_model_age_days), else score.

    The model in use, the PSI and the verdict come from the same macros as
    int_segmentation_model_in_use, feature_drift and model_health, which
    report them for the model in use after the fit. -#}

{%- set mode = var('segmentation_mode', 'auto') %}
{%- set thresholds = monitoring_settings() %}
{%- set no_model_message = "segmentation_mode is 'score' but no model is registered yet in "
    ~ "segmentation_models. Run once with --vars '{segmentation_mode: retrain}' "
    ~ "(or 'auto') to fit the first model." %}

{#- The registry before this build is the Python fit's own table. It cannot
    be ref()'d: the fit reads this model, so a ref would be a cycle. Its
    name comes from the project graph (the node of this model's package,
    also in a host project) and adapter.get_relation asks the
    catalog whether the table exists yet (a lookup of the name, not a read
    of its rows: on the first build there is none). -#}
{%- set registry = none %}
{%- if execute %}
    {%- set fit_node = graph.nodes['model.' ~ model.package_name ~ '.segmentation_model_artifacts'] %}
    {%- set registry = adapter.get_relation(
        database=fit_node.database, schema=fit_node.schema, identifier=fit_node.alias
    ) %}
    {%- if registry is none and mode == 'score' %}
        {{ exceptions.raise_compiler_error(no_model_message) }}
    {%- endif %}
{%- endif %}

with

registry as (
    {%- if registry is not none %}
        select
            model_version,
            artifact,
            recorded_at,
            training_reason,
            training_cutoff_date,
            feature,
            drop_reason,
            impute_value,
            bin_number,
            bin_lower,
            reference_share
        from {{ registry }}
    {%- else %}
        -- the first build: an empty registry with the columns read below
        select
            cast(null as {{ dbt.type_string() }}) as model_version,
            cast(null as {{ dbt.type_string() }}) as artifact,
            cast(null as {{ dbt.type_timestamp() }}) as recorded_at,
            cast(null as {{ dbt.type_string() }}) as training_reason,
            cast(null as date) as training_cutoff_date,
            cast(null as {{ dbt.type_string() }}) as feature,
            cast(null as {{ dbt.type_string() }}) as drop_reason,
            cast(null as double) as impute_value,
            cast(null as {{ dbt.type_int() }}) as bin_number,
            cast(null as double) as bin_lower,
            cast(null as double) as reference_share
        from (select 1 as no_registry) as no_rows
        where no_rows.no_registry = 0
    {%- endif %}
),

customer_features as (
    select max(as_of_date) as as_of_date
    from {{ ref('customer_features') }}
),

in_use as (
    {{ model_in_use('registry') }}
),

reference_bins as (
    select
        model_version,
        feature,
        bin_number,
        bin_lower,
        reference_share
    from registry
    where artifact = 'reference_bin'
),

feature_transform as (
    select
        model_version,
        feature,
        drop_reason is null as is_used,
        impute_value
    from registry
    where artifact = 'feature'
),

drift as (
    {{ feature_psi('in_use', 'reference_bins', 'feature_transform') }}
),

largest_drift as (
    select
        max(psi) as max_psi,
        max_by(feature, psi) as max_psi_feature
    from drift
),

model_in_use as (
    select
        in_use.model_version,
        models.training_cutoff_date
    from in_use
    left join registry as models
        on
            in_use.model_version = models.model_version
            and models.artifact = 'model'
),

assessed as (
    select
        model_in_use.model_version as model_version_in_use,
        model_in_use.training_cutoff_date,
        customer_features.as_of_date,
        {{ dbt.datediff('model_in_use.training_cutoff_date', 'customer_features.as_of_date', 'day') }}
            as model_age_days,
        largest_drift.max_psi,
        largest_drift.max_psi_feature
    from customer_features
    cross join largest_drift
    left join model_in_use
        on true
),

decided as (
    select
        model_version_in_use,
        training_cutoff_date,
        as_of_date,
        model_age_days,
        max_psi,
        max_psi_feature,
        case
            when model_version_in_use is not null
                then {{ retrain_verdict('max_psi', 'model_age_days') }}
        end as verdict,
        cast(cast(max_psi as decimal(18, 3)) as {{ dbt.type_string() }}) as max_psi_text
    from assessed
),

final as (
    select
        {{ sql_string_literal(mode) }} as segmentation_mode,
        {%- if mode == 'retrain' %}
            true
        {%- elif mode == 'score' %}
            false
        {%- else %}
            (model_version_in_use is null or verdict = 'retrain')
        {%- endif %} as should_fit,
        case
            when model_version_in_use is null
                {%- if mode == 'score' %}
                    then {{ raise_error(sql_string_literal(no_model_message)) }}
                {%- else %}
                    then {{ sql_string_literal(mode ~ ': no model registered yet') }}
                {%- endif %}
            {%- if mode in ['retrain', 'score'] %}
                else {{ sql_string_literal(mode ~ ': requested by segmentation_mode') }}
            {%- else %}
                when {{ drift_reaches('max_psi', 'psi_retrain') }}
                    then
                        'auto: drift PSI ' || max_psi_text || ' on ' || max_psi_feature
                        || ' >= monitoring.psi_retrain {{ thresholds.psi_retrain }}'
                when {{ model_is_too_old('model_age_days') }}
                    then
                        'auto: model trained on data to '
                        || cast(training_cutoff_date as {{ dbt.type_string() }}) || ' is '
                        || cast(model_age_days as {{ dbt.type_string() }}) || ' days old > '
                        || 'monitoring.max_model_age_days {{ thresholds.max_model_age_days }}'
                else
                    'auto: model still fits the data'
                    || coalesce('; largest PSI ' || max_psi_text || ' on ' || max_psi_feature, '')
            {%- endif %}
        end as fit_reason,
        model_version_in_use,
        verdict,
        max_psi,
        max_psi_feature,
        model_age_days,
        training_cutoff_date,
        as_of_date
    from decided
)

select * from final
