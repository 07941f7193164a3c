{#-
    validate_settings()

    The on-run-start hook of `dbt build` and `dbt run`: checks every setting
    the user can change (the dbt vars of the raw input, the clustering and
    the model maintenance) before any table is touched, and stops the run
    with one paragraph naming the first bad setting, the value it got and
    what is allowed. Returns no SQL.
-#}
{% macro validate_settings() %}
    {%- if not execute or flags.WHICH not in ('build', 'run') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set problem = _raw_input_settings_problem() -%}
    {%- if not problem -%}
        {%- set problem = raw_native_batch_lines_problem() -%}
    {%- endif -%}
    {%- if not problem -%}
        {%- set problem = _feature_settings_problem(var('ratio_prior_orders', none)) -%}
    {%- endif -%}
    {%- if not problem -%}
        {%- set problem = segmentation_settings_problem(var('segmentation', none)) -%}
    {%- endif -%}
    {%- if not problem -%}
        {%- set problem = _maintenance_settings_problem() -%}
    {%- endif -%}
    {%- if problem -%}
        {{ exceptions.raise_compiler_error(
            "Invalid setting: " ~ problem ~ " Change it under `vars:` in dbt_project.yml or in --vars "
            ~ "(a --vars value replaces the whole var; unset clustering settings take their defaults). "
            ~ "Nothing was built: the check runs before any table is touched, and the last publication stays as it is."
        ) }}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}


{#-
    _raw_input_settings_problem()

    The first problem with the dbt vars that say how to read the raw files
    (raw_transactions, raw_csv_delimiter, raw_encoding, raw_date_formats,
    max_abs_quantity, max_abs_unit_price, as_of_date), as one sentence that
    names the var; '' when they are valid.
-#}
{% macro _raw_input_settings_problem() %}
    {%- set glob = var('raw_transactions', none) -%}
    {%- if glob is not string or glob | trim == '' or "'" in glob -%}
        {{- return('the dbt var raw_transactions is ' ~ tojson(glob) ~ '; it must be a file glob of CSV, CSV.gz or Parquet files without single quotes, such as "data/raw/*.csv.gz".') -}}
    {%- endif -%}
    {%- set delimiter = var('raw_csv_delimiter', none) -%}
    {%- if delimiter is not string or delimiter | length != 1 or delimiter in ['"', "'", '\\', '\n', '\r'] -%}
        {{- return('the dbt var raw_csv_delimiter is ' ~ tojson(delimiter) ~ "; it must be one character other than a quote, a backslash or a line break, such as ',' or ';'.") -}}
    {%- endif -%}
    {%- set encoding = var('raw_encoding', none) -%}
    {%- if encoding is not string or encoding | lower not in ['utf-8', 'latin-1', 'utf-16'] -%}
        {{- return('the dbt var raw_encoding is ' ~ tojson(encoding) ~ "; it must be 'utf-8', 'latin-1' or 'utf-16' (the encodings DuckDB reads without an extension).") -}}
    {%- endif -%}
    {%- set date_formats = var('raw_date_formats', none) -%}
    {%- if date_formats is string or date_formats is not sequence or date_formats | length == 0
        or date_formats | select('string') | list | length != date_formats | length -%}
        {{- return('the dbt var raw_date_formats is ' ~ tojson(date_formats) ~ "; it must be a non-empty list of strptime formats such as ['%Y-%m-%d %H:%M:%S', '%m/%d/%Y %H:%M'].") -}}
    {%- endif -%}
    {%- for date_format in date_formats -%}
        {%- if '%' not in date_format or "'" in date_format -%}
            {{- return('the dbt var raw_date_formats has the entry ' ~ tojson(date_format) ~ "; each entry must be a strptime format with % fields and no single quote, such as '%d/%m/%Y %H:%M'.") -}}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in ['max_abs_quantity', 'max_abs_unit_price'] -%}
        {%- set value = var(name, none) -%}
        {%- if value is not number or value is boolean or not (value > 0) or value != value -%}
            {{- return('the dbt var ' ~ name ~ ' is ' ~ tojson(value) ~ '; it must be a positive number (lines above it are quarantined as absurd).') -}}
        {%- endif -%}
    {%- endfor -%}
    {%- set as_of_date = var('as_of_date', none) -%}
    {%- if as_of_date is not none and not modules.re.fullmatch(
        '\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])', as_of_date | string
    ) -%}
        {{- return('the dbt var as_of_date is ' ~ tojson(as_of_date | string) ~ '; it must be null (the day after the last purchase) or a date written YYYY-MM-DD.') -}}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}


{#- The first problem with the vars that shape customer_features, given as
    arguments (so a test can feed it values): ratio_prior_orders, the
    shrinkage strength of the ratio features in orders; '' when valid. -#}
{% macro _feature_settings_problem(ratio_prior_orders) %}
    {%- set value = ratio_prior_orders -%}
    {%- if value is not number or value is boolean or value != value or not (value >= 0) or value > 1e308 -%}
        {{- return('the dbt var ratio_prior_orders is ' ~ tojson(value) ~ '; it must be a number >= 0 (the weight, in orders, of the population share a ratio feature is shrunk towards; 0 turns the shrinkage off).') -}}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}


{#- The first problem with the model-maintenance vars (segmentation_mode,
    monitoring), the one check of them; '' when valid. The thresholds with
    their defaults come from monitoring_settings. -#}
{% macro _maintenance_settings_problem() %}
    {%- set mode = var('segmentation_mode', 'auto') -%}
    {%- if mode not in ['auto', 'retrain', 'score'] -%}
        {{- return('the dbt var segmentation_mode is ' ~ tojson(mode) ~ '; it must be one of auto, retrain, score.') -}}
    {%- endif -%}
    {%- set monitoring = var('monitoring', {}) or {} -%}
    {%- if monitoring is not mapping -%}
        {{- return('the dbt var monitoring is ' ~ tojson(monitoring) ~ '; it must be a mapping of psi_watch, psi_retrain and max_model_age_days.') -}}
    {%- endif -%}
    {%- set unknown = monitoring.keys() | reject('in', ['psi_watch', 'psi_retrain', 'max_model_age_days']) | sort -%}
    {%- if unknown -%}
        {{- return('unknown setting(s) monitoring.' ~ unknown | join(', monitoring.') ~ '; allowed: max_model_age_days, psi_retrain, psi_watch.') -}}
    {%- endif -%}
    {%- set settings = monitoring_settings() -%}
    {%- for name in ['psi_watch', 'psi_retrain'] -%}
        {%- set value = settings[name] -%}
        {%- if value is not number or value is boolean or not (value > 0) -%}
            {{- return('monitoring.' ~ name ~ ' is ' ~ tojson(value) ~ '; it must be a positive number.') -}}
        {%- endif -%}
    {%- endfor -%}
    {%- if settings.psi_retrain < settings.psi_watch -%}
        {{- return(
            'monitoring.psi_retrain (' ~ settings.psi_retrain ~ ') is below monitoring.psi_watch (' ~ settings.psi_watch
            ~ '); retraining must need at least as much drift as watching.'
        ) -}}
    {%- endif -%}
    {%- set age = settings.max_model_age_days -%}
    {%- if age is not integer or age is boolean or age < 1 -%}
        {{- return('monitoring.max_model_age_days is ' ~ tojson(age) ~ '; it must be a whole number of days, at least 1.') -}}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}
