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
