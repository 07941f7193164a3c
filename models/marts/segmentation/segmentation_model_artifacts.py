"""The model registry: fit, evaluate and select the clustering when this run
should, and keep every fitted model as data (append-only, flat rows).

Thin on purpose: read the settings and the customer feature matrix, let the
project's `segmentation` package (python_jobs/segmentation) decide whether to
fit (dbt var `segmentation_mode`) and fit, and return the new model's flat
artifact rows (segmentation/artifacts.py), a `use` row when an already
registered version fits this data again, or no row when this run scores with
the model in use. The int_segmentation_model_* models split the rows by
artifact; scoring happens downstream, in SQL (int_customers_scored).
"""

import datetime as dt
import json


def model(dbt, session):
    # full_refresh=False: `dbt build --full-refresh` keeps the model history
    dbt.config(materialized="incremental", full_refresh=False)

    from segmentation import SegmentationConfig, fit_segmentation
    from segmentation.artifacts import artifact_table, use_table
    from segmentation.data import model_version_for
    from segmentation.monitoring import MonitoringConfig, decide
    from segmentation.warehouse import (
        RegistryState,
        empty_registry_table,
        read_feature_matrix,
        read_registry,
    )

    # every setting, checked and defaulted by the Jinja macros
    [settings_json] = dbt.ref("int_segmentation_settings").fetchone()
    config = SegmentationConfig.from_dict(json.loads(settings_json))
    monitoring = MonitoringConfig.from_vars(
        dbt.config.get("segmentation_mode"),
        json.loads(dbt.config.get("monitoring_json")),
    )
    table, as_of_date = read_feature_matrix(
        dbt.ref("customer_features"), config.features
    )
    registry = (
        read_registry(session, dbt.this)
        if dbt.is_incremental
        else RegistryState(frozenset(), None)
    )
    latest = registry.latest

    decision = decide(monitoring, latest, table, as_of_date)
    if not decision.fit:
        return empty_registry_table()
    version = model_version_for(table, config)
    if latest is not None and version == latest["model_version"]:
        # same data and settings as the model in use: nothing new to record
        return empty_registry_table()
    if version in registry.versions:
        # fitted before on these data and settings (data sets A, B, A):
        # reuse the registered model, and record that it is in use again
        reason = f"{decision.reason}; reuses registered model {version}"
        return use_table(version, dt.datetime.now(dt.UTC), reason)
    result = fit_segmentation(
        table, config, training_cutoff_date=as_of_date, previous_model=latest
    )
    return artifact_table(result.artifact_rows, decision.reason)
