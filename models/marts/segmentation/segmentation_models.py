"""The model registry: fit, evaluate and select the clustering when this run
should, and keep every fitted model as data (append-only).

Thin on purpose: read the settings and the customer feature matrix, let the
project's `segmentation` package (python_jobs/segmentation) decide whether to
fit (dbt var `segmentation_mode`) and fit, and return the new registry row,
or no row when this run scores with the latest registered model. Scoring
happens downstream, in SQL, from the latest row.
"""

import json


def model(dbt, session):
    # full_refresh=False: `dbt build --full-refresh` keeps the model history
    dbt.config(materialized="incremental", full_refresh=False)

    from segmentation import SegmentationConfig, fit_segmentation
    from segmentation.monitoring import MonitoringConfig, decide
    from segmentation.warehouse import (
        empty_registry_table,
        latest_registered_model,
        read_feature_matrix,
        with_training_reason,
    )

    config = SegmentationConfig.from_dict(
        json.loads(dbt.config.get("segmentation_json"))
    )
    monitoring = MonitoringConfig.from_vars(
        dbt.config.get("segmentation_mode"),
        json.loads(dbt.config.get("monitoring_json")),
    )
    table, as_of_date = read_feature_matrix(
        dbt.ref("customer_features"), config.features
    )
    latest = latest_registered_model(session, dbt.this) if dbt.is_incremental else None

    decision = decide(monitoring, latest, table, as_of_date)
    if not decision.fit:
        return empty_registry_table()
    result = fit_segmentation(
        table, config, training_cutoff_date=as_of_date, previous_model=latest
    )
    if latest is not None and result.model_version == latest["model_version"]:
        # same data and settings as the latest model: nothing new to register
        return empty_registry_table()
    return with_training_reason(result.to_arrow(), decision.reason)
