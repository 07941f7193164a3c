"""Fit, evaluate and select the customer clustering; keep the model as data.

Thin on purpose: read the settings and the customer feature matrix, call the
project's `segmentation` package (python_jobs/segmentation), return one row
that holds the whole fitted model (transform, centroids, candidates, metrics,
reference distributions). Scoring happens downstream, in SQL.
"""

import json


def model(dbt, session):
    dbt.config(materialized="table")

    from segmentation import SegmentationConfig, fit_segmentation
    from segmentation.warehouse import read_feature_matrix

    config = SegmentationConfig.from_dict(
        json.loads(dbt.config.get("segmentation_json"))
    )
    features = dbt.ref("customer_features")
    table, as_of_date = read_feature_matrix(features, config.features)
    result = fit_segmentation(table, config, training_cutoff_date=as_of_date)
    return result.to_arrow()
