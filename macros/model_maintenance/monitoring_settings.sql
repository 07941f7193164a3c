{#-
    monitoring_settings()

    The model-maintenance thresholds in force: the dbt var `monitoring` over
    the defaults, as a dict (psi_watch, psi_retrain, max_model_age_days).
    The one place the defaults are written; a `--vars` value replaces the
    whole var, so SQL reads the thresholds here. _maintenance_settings_problem
    checks them before anything is built.
-#}
{% macro monitoring_settings() %}
    {%- set settings = {'psi_watch': 0.1, 'psi_retrain': 0.25, 'max_model_age_days': 90} -%}
    {%- set given = var('monitoring', {}) -%}
    {%- if given is mapping -%}
        {%- do settings.update(given) -%}
    {%- endif -%}
    {{- return(settings) -}}
{% endmacro %}
