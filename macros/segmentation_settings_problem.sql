{#-
    segmentation_settings_problem(settings)

    The first problem with the clustering settings (the dbt var
    `segmentation`), as one sentence that starts with the setting's path
    (`segmentation.k_min: got 9; allowed: ...`), or '' when they are valid.
    The one home of the clustering settings' rules: validate_settings runs
    it before a build touches any table, and the Python package
    (python_jobs/segmentation/config.py) checks nothing again, it only
    receives the settings defaulted by segmentation_settings. It also checks
    that every feature is a numeric column of customer_features.
    tests/python/test_segmentation_config.py feeds it bad settings.
-#}
{% macro segmentation_settings_problem(settings) %}
    {%- if settings is none -%}
        {{- return('') -}}
    {%- endif -%}
    {%- if settings is not mapping -%}
        {{- return('segmentation: got ' ~ tojson(settings) ~ '; allowed: a mapping of settings (or nothing, for the defaults).') -}}
    {%- endif -%}
    {%- set defaults = segmentation_settings({}) -%}
    {%- set unknown = [] -%}
    {%- for key in settings | sort -%}
        {%- if key not in defaults -%}
            {%- do unknown.append(key) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if unknown -%}
        {{- return(
            'segmentation.' ~ unknown[0] ~ ': unknown setting'
            ~ (' (also unknown: ' ~ unknown[1:] | join(', ') ~ ')' if unknown | length > 1 else '')
            ~ '; allowed settings: ' ~ defaults.keys() | join(', ') ~ '.'
        ) -}}
    {%- endif -%}
    {%- set s = segmentation_settings(settings) -%}
    {%- set algorithms = ['kmeans', 'agglomerative', 'gaussian_mixture', 'hdbscan', 'dbscan'] -%}

    {#- one value at a time, in the order of the defaults -#}
    {%- for name in defaults -%}
        {%- set value = s[name] -%}
        {%- set allowed = _segmentation_value_rule(name, value, algorithms) -%}
        {%- if allowed -%}
            {{- return('segmentation.' ~ name ~ ': got ' ~ tojson(value) ~ '; allowed: ' ~ allowed ~ '.') -}}
        {%- endif -%}
    {%- endfor -%}

    {#- combinations -#}
    {%- if s.k_min > s.k_max -%}
        {{- return('segmentation.k_min: got ' ~ s.k_min ~ '; allowed: an integer >= 2 and <= segmentation.k_max (' ~ s.k_max ~ ').') -}}
    {%- endif -%}
    {%- if s.min_segment_share * s.k_min > 1.0 -%}
        {{- return(
            'segmentation.min_segment_share: got ' ~ s.min_segment_share ~ '; allowed: a share small enough that '
            ~ 'segmentation.k_min (' ~ s.k_min ~ ') segments can all reach it, i.e. <= ' ~ (1.0 / s.k_min) | round(4) ~ '.'
        ) -}}
    {%- endif -%}
    {%- if s.log_transform is not string -%}
        {%- set unknown_logged = s.log_transform | reject('in', s.features) | list -%}
        {%- if unknown_logged -%}
            {{- return(
                'segmentation.log_transform: got ' ~ tojson(s.log_transform) ~ "; allowed: 'auto', 'none' or names from "
                ~ 'segmentation.features (' ~ s.features | join(', ') ~ '); unknown: ' ~ unknown_logged | join(', ') ~ '.'
            ) -}}
        {%- endif -%}
    {%- endif -%}
    {%- if s.pca_components is integer and s.pca_components > s.features | length -%}
        {{- return(
            'segmentation.pca_components: got ' ~ s.pca_components ~ '; allowed: at most the number of features ('
            ~ s.features | length ~ '), or a variance share in (0, 1).'
        ) -}}
    {%- endif -%}

    {#- the features must be numeric columns of customer_features -#}
    {%- set columns = _customer_feature_columns() -%}
    {%- if columns -%}
        {%- set numeric = [] -%}
        {%- for name, data_type in columns.items() -%}
            {%- if modules.re.match('(big|small|tiny|huge)?int|integer|double|float|real|decimal|numeric', data_type) -%}
                {%- do numeric.append(name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set not_numeric = s.features | reject('in', numeric) | list -%}
        {%- if not_numeric -%}
            {{- return(
                'segmentation.features: ' ~ not_numeric | join(', ') ~ (' is' if not_numeric | length == 1 else ' are')
                ~ ' not a numeric column of customer_features; allowed: ' ~ numeric | join(', ') ~ '.'
            ) -}}
        {%- endif -%}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}


{#- What a value may be, in words, when `value` breaks the rule of setting
    `name`; '' when it is fine. -#}
{% macro _segmentation_value_rule(name, value, algorithms) %}
    {%- set is_int = value is integer and value is not boolean -%}
    {%- set is_number = (value is number and value is not boolean and value == value
        and value < 1e308 and value > -1e308) -%}
    {%- if name == 'features' -%}
        {%- set rule = _string_list_rule(value, 'feature column names') -%}
        {%- if rule -%}
            {{- return(rule) -}}
        {%- elif 'customer_id' in value -%}
            {{- return('numeric feature columns; customer_id is the key, not a feature') -}}
        {%- endif -%}
    {%- elif name == 'log_transform' -%}
        {%- if value is string -%}
            {%- if value not in ['auto', 'all', 'none'] -%}
                {{- return("one of 'auto', 'all', 'none'") -}}
            {%- endif -%}
        {%- elif not (value is sequence and value | length == 0) -%}
            {{- return(_string_list_rule(value, "feature names, or 'auto' or 'none'")) -}}
        {%- endif -%}
    {%- elif name == 'skew_threshold' -%}
        {%- if not is_number or value < 0 or value > 1000000 -%}
            {{- return('a number in [0.0, 1000000.0]') -}}
        {%- endif -%}
    {%- elif name == 'winsorize_percentiles' -%}
        {%- if value is string or value is mapping or value is not sequence or value | length != 2
            or value | select('number') | reject('boolean') | list | length != 2
            or not (0 <= value[0] < value[1] <= 1) -%}
            {{- return('a list [low, high] of two numbers with 0 <= low < high <= 1') -}}
        {%- endif -%}
    {%- elif name == 'scaler' -%}
        {%- if value not in ['robust', 'standard', 'quantile'] or value is not string -%}
            {{- return("one of 'robust', 'standard', 'quantile'") -}}
        {%- endif -%}
    {%- elif name == 'quantile_knots' -%}
        {%- if not is_int or value < 2 or value > 10001 -%}
            {{- return('an integer >= 2 and <= 10001') -}}
        {%- endif -%}
    {%- elif name == 'correlation_threshold' -%}
        {%- if not is_number or value <= 0 or value > 1 -%}
            {{- return('a number in (0.0, 1.0]') -}}
        {%- endif -%}
    {%- elif name == 'pca_components' -%}
        {%- if value is not none and not (is_int and value >= 1) and not (is_number and 0 < value < 1) -%}
            {{- return('null (no PCA), an integer >= 1 (number of components) or a number in (0, 1) (share of variance to keep)') -}}
        {%- endif -%}
    {%- elif name == 'algorithms' -%}
        {%- set rule = _string_list_rule(value, 'algorithm names') -%}
        {%- if rule -%}
            {{- return(rule) -}}
        {%- elif value | reject('in', algorithms) | list -%}
            {{- return('a non-empty list drawn from ' ~ "'" ~ algorithms | join("', '") ~ "'") -}}
        {%- endif -%}
    {%- elif name in ['k_min', 'k_max'] -%}
        {%- if not is_int or value < 2 -%}
            {{- return('an integer >= 2') -}}
        {%- endif -%}
    {%- elif name == 'min_segment_share' -%}
        {%- if not is_number or value < 0 or value >= 1 -%}
            {{- return('a number in [0.0, 1.0)') -}}
        {%- endif -%}
    {%- elif name in ['stability_floor', 'jaccard_unstable_below', 'k_tolerance'] -%}
        {%- if not is_number or value < 0 or value > 1 -%}
            {{- return('a number in [0.0, 1.0]') -}}
        {%- endif -%}
    {%- elif name == 'bootstrap_samples' -%}
        {%- if not is_int or value < 0 or value > 1000 -%}
            {{- return('an integer >= 0 and <= 1000') -}}
        {%- endif -%}
    {%- elif name == 'sample_size' -%}
        {%- if not is_int or value < 50 -%}
            {{- return('an integer >= 50') -}}
        {%- endif -%}
    {%- elif name == 'minibatch_threshold' -%}
        {%- if not is_int or value < 1 -%}
            {{- return('an integer >= 1') -}}
        {%- endif -%}
    {%- elif name == 'selection_metric' -%}
        {%- if value not in ['silhouette', 'davies_bouldin', 'calinski_harabasz'] or value is not string -%}
            {{- return("one of 'silhouette', 'davies_bouldin', 'calinski_harabasz'") -}}
        {%- endif -%}
    {%- elif name == 'random_state' -%}
        {%- if not is_int or value < 0 or value > 4294967295 -%}
            {{- return('an integer >= 0 and <= 4294967295') -}}
        {%- endif -%}
    {%- elif name == 'n_init' -%}
        {%- if not is_int or value < 1 or value > 100 -%}
            {{- return('an integer >= 1 and <= 100') -}}
        {%- endif -%}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}


{#- The rule of a non-empty list of unique, non-blank names, when `value`
    breaks it; '' when it is fine. -#}
{% macro _string_list_rule(value, what) %}
    {%- set allowed = 'a non-empty list of unique ' ~ what -%}
    {%- if value is string or value is mapping or value is not sequence or value | length == 0 -%}
        {{- return(allowed) -}}
    {%- endif -%}
    {%- for item in value -%}
        {%- if item is not string or item | trim == '' -%}
            {{- return(allowed ~ ' (bad entry ' ~ tojson(item) ~ ')') -}}
        {%- endif -%}
    {%- endfor -%}
    {%- set repeated = [] -%}
    {%- for item in value | unique | sort -%}
        {%- if value | select('equalto', item) | list | length > 1 -%}
            {%- do repeated.append(item) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if repeated -%}
        {{- return(allowed ~ ' (repeated: ' ~ repeated | join(', ') ~ ')') -}}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}


{#- Column name -> data type of the customer_features contract, from the
    project graph; empty before the graph is available. -#}
{% macro _customer_feature_columns() %}
    {%- set columns = {} -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == 'customer_features' -%}
            {%- for column in node.columns.values() -%}
                {%- do columns.update({column.name: (column.data_type or '') | lower}) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(columns) -}}
{% endmacro %}
