{#-
    The retrain verdict and its two tests, the one home of the thresholds'
    rule (their values: monitoring_settings).
-#}

{#- drift_reaches(psi, level): SQL true when the PSI expression `psi`
    reaches the threshold monitoring.<level> (level 'psi_watch' or
    'psi_retrain'); null when the PSI is null. -#}
{% macro drift_reaches(psi, level) -%}
    {%- if level not in ['psi_watch', 'psi_retrain'] -%}
        {{ exceptions.raise_compiler_error("drift_reaches: level must be 'psi_watch' or 'psi_retrain', got " ~ tojson(level)) }}
    {%- endif -%}
    ({{ psi }} >= {{ monitoring_settings()[level] }})
{%- endmacro %}


{#- model_is_too_old(model_age_days): SQL true when the model's training
    data are more than monitoring.max_model_age_days older than the current
    features; null when the age is null. -#}
{% macro model_is_too_old(model_age_days) -%}
    ({{ model_age_days }} > {{ monitoring_settings()['max_model_age_days'] }})
{%- endmacro %}


{#- retrain_verdict(max_psi, model_age_days): the verdict on the model in
    use, as SQL text: 'retrain' when the largest feature PSI reaches
    monitoring.psi_retrain or the model is older than
    monitoring.max_model_age_days, 'watch' when the PSI reaches
    monitoring.psi_watch, else 'ok'. `auto` fits exactly on 'retrain'. -#}
{% macro retrain_verdict(max_psi, model_age_days) -%}
    case
        when {{ drift_reaches(max_psi, 'psi_retrain') }} or {{ model_is_too_old(model_age_days) }} then 'retrain'
        when {{ drift_reaches(max_psi, 'psi_watch') }} then 'watch'
        else 'ok'
    end
{%- endmacro %}
