{#- Warns (does not fail) when this run's model health verdict is `retrain`:
    the features drifted past monitoring.psi_retrain or the model is older
    than monitoring.max_model_age_days. Run with segmentation_mode auto or
    retrain to fit a new model. -#}
{{ config(severity='warn') }}

select
    invocation_id,
    model_version,
    verdict,
    verdict_reason
from {{ ref('model_health') }}
where
    invocation_id = '{{ invocation_id }}'
    and verdict = 'retrain'
