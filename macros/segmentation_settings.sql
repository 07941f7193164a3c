{#-
    segmentation_settings(settings=none)

    The clustering settings in force: the dbt var `segmentation` (or
    `settings` when given) over the defaults. These defaults are the ones a
    dbt build uses: the Python model reads tojson(segmentation_settings())
    from the model int_segmentation_settings, every setting filled in. python_jobs/segmentation/config.py keeps the same defaults as
    the package's library defaults, and a pytest holds the two equal. A
    `--vars '{segmentation: {k_min: 4}}'` on the command line replaces the
    whole var, so SQL that needs a setting reads it here, not from the var.
    Call it only on settings that segmentation_settings_problem accepts.
-#}
{% macro segmentation_settings(settings=none) %}
    {%- set merged = {
        'features': ['recency_days', 'frequency', 'monetary', 'tenure_days', 'distinct_products'],
        'log_transform': 'all',
        'skew_threshold': 1.0,
        'winsorize_percentiles': [0.01, 0.99],
        'scaler': 'robust',
        'quantile_knots': 101,
        'correlation_threshold': 0.9,
        'pca_components': none,
        'algorithms': ['kmeans', 'agglomerative', 'gaussian_mixture', 'hdbscan'],
        'k_min': 4,
        'k_max': 8,
        'min_segment_share': 0.02,
        'stability_floor': 0.8,
        'jaccard_unstable_below': 0.6,
        'bootstrap_samples': 10,
        'sample_size': 5000,
        'minibatch_threshold': 100000,
        'k_tolerance': 0.02,
        'selection_metric': 'silhouette',
        'random_state': 42,
        'n_init': 4,
    } -%}
    {%- set given = var('segmentation', none) if settings is none else settings -%}
    {%- if given is mapping -%}
        {%- do merged.update(given) -%}
    {%- endif -%}
    {{- return(merged) -}}
{% endmacro %}
