"""The model registry: fit, evaluate and select the clustering when this run
should, and keep every fitted model as data (append-only, flat rows).

Thin on purpose: read the decision made in SQL before this model
(int_segmentation_retrain_decision: dbt var `segmentation_mode`, the model
in use, drift and verdict), and when it says fit, read the settings and the
customer feature matrix, let the project's `segmentation` package
(python_jobs/segmentation) fit, and return the new model's flat artifact
rows (segmentation/artifacts.py); a `use` row when an already registered
version fits this data again; no row when this run scores with the model in
use. The int_segmentation_model_* models split the rows by artifact; scoring
happens downstream, in SQL (int_customers_scored).
"""

import datetime as dt
import json


def model(dbt, session):
    # full_refresh=False: `dbt build --full-refresh` keeps the model history
    dbt.config(materialized="incremental", full_refresh=False)

    # these modules do not import scikit-learn: a run that fits starts the
    # fitting process (segmentation/fit_process.py) before this one does
    from segmentation.artifacts import (
        artifact_table,
        registry_row_from_artifacts,
        use_table,
    )
    from segmentation.config import SegmentationConfig
    from segmentation.data import model_version_for
    from segmentation.fit_process import FitProcess
    from segmentation.warehouse import (
        empty_registry_table,
        read_artifacts,
        read_feature_matrix,
        read_retrain_decision,
        read_settings_json,
        registered_versions,
        to_model_output,
    )

    decision = read_retrain_decision(dbt.ref("int_segmentation_retrain_decision"))
    if not decision.should_fit:
        return to_model_output(empty_registry_table(), session)
    # every setting, checked and defaulted by the Jinja macros
    settings_json = read_settings_json(dbt.ref("int_segmentation_settings"))
    config = SegmentationConfig.from_dict(json.loads(settings_json))
    table, as_of_date = read_feature_matrix(
        dbt.ref("customer_features"), config.features
    )
    version = model_version_for(table, config)
    in_use = decision.model_version_in_use
    if version == in_use:
        # same data and settings as the model in use: nothing new to record
        return to_model_output(empty_registry_table(), session)
    registry = read_artifacts(session, dbt.this) if dbt.is_incremental else None
    if registry is not None and version in registered_versions(registry):
        # fitted before on these data and settings (data sets A, B, A):
        # reuse the registered model, and record that it is in use again
        reason = f"{decision.reason}; reuses registered model {version}"
        return to_model_output(
            use_table(version, dt.datetime.now(dt.UTC), reason), session
        )
    # a second process fits candidates beside this one; it imports
    # scikit-learn while this one does (the next import)
    process = FitProcess.start()
    try:
        from segmentation import fit_segmentation

        # the model in use, to keep its segment ids where the segments match
        previous = (
            registry_row_from_artifacts(registry, in_use)
            if registry is not None and in_use is not None
            else None
        )
        result = fit_segmentation(
            table,
            config,
            training_cutoff_date=as_of_date,
            previous_model=previous,
            process=process,
        )
    finally:
        if process is not None:
            process.close()
    return to_model_output(
        artifact_table(result.artifact_rows, decision.reason), session
    )
