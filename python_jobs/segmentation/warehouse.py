"""Moving data between the warehouse and the package, without pandas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pyarrow as pa


def read_feature_matrix(
    relation, features: Sequence[str]
) -> tuple[pa.Table, dt.date | None]:
    """Project the customer feature matrix out of a DuckDB relation as Arrow.

    Parameters
    ----------
    relation : duckdb.DuckDBPyRelation
        The `customer_features` relation (lazy; only the projected columns
        are read, already aggregated to one row per customer).
    features : sequence of str
        Feature columns to read besides `customer_id`. A name the relation
        lacks is left out here, and reported by the fit with the setting.

    Returns
    -------
    table : pyarrow.Table
        `customer_id` and the features, sorted by customer id.
    as_of_date : datetime.date or None
        The features' as-of date, recorded as the training cut-off.
    """
    available = set(relation.columns)
    columns = ["customer_id"] + [
        f for f in features if f in available and f != "customer_id"
    ]
    projection = ", ".join(f'"{c}"' for c in columns)
    table = relation.project(projection).order("customer_id").arrow()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    as_of_date = None
    if "as_of_date" in available:
        row = relation.aggregate("max(as_of_date)").fetchone()
        as_of_date = row[0] if row else None
    return table, as_of_date


#: Columns the dbt model adds to the package's registry row.
TRAINING_REASON = pa.field("training_reason", pa.string())


def empty_registry_table() -> pa.Table:
    """A registry table with no row: this run registers no new model."""
    from .registry import REGISTRY_SCHEMA

    return REGISTRY_SCHEMA.append(TRAINING_REASON).empty_table()


def with_training_reason(row: pa.Table, reason: str) -> pa.Table:
    """Add why the model was fitted (mode, drift, age) to its registry row."""
    return row.append_column(TRAINING_REASON, pa.array([reason] * row.num_rows))


def latest_registered_model(connection, registry) -> dict | None:
    """The most recently trained registry row, as a dict, or None.

    ``registry`` is a DuckDB relation (``dbt.ref(...)``) or the name of the
    registry table (``dbt.this``), read through ``connection``.
    """
    if not hasattr(registry, "order"):
        registry = connection.table(str(registry))
    table = registry.order("trained_at desc, model_version").limit(1).arrow()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    rows = table.to_pylist()
    return rows[0] if rows else None
