"""Segment shares now against at training, and the silhouette of the current
customers under the frozen model in use (see python_jobs/segmentation/
monitoring.py). One row per segment."""


def model(dbt, session):
    dbt.config(materialized="table")

    from segmentation.monitoring import segment_drift
    from segmentation.warehouse import latest_registered_model, read_feature_matrix

    registry = dbt.ref("segmentation_models")
    model_row = latest_registered_model(session, registry)
    table, _ = read_feature_matrix(
        dbt.ref("customer_features"), model_row["features_used"]
    )
    return segment_drift(table, model_row)
