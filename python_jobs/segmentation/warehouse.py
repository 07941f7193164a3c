"""Moving data between the warehouse and the package, without pandas.

The relations come from a dbt Python model: DuckDB relations on the duckdb
target, Spark DataFrames on the spark target (pyspark 4 reads and writes
Arrow directly). Only these functions know the difference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

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
    as_of_date = None
    if _is_spark(relation):
        table = relation.select(*columns).orderBy("customer_id").toArrow()
        if "as_of_date" in available:
            as_of_date = relation.agg({"as_of_date": "max"}).collect()[0][0]
        return table, as_of_date
    projection = ", ".join(f'"{c}"' for c in columns)
    table = relation.project(projection).order("customer_id").arrow()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    if "as_of_date" in available:
        row = relation.aggregate("max(as_of_date)").fetchone()
        as_of_date = row[0] if row else None
    return table, as_of_date


def _is_spark(relation_or_session) -> bool:
    """True for a Spark DataFrame or session (the spark target)."""
    return type(relation_or_session).__module__.startswith("pyspark.")


def _rows(relation) -> list[tuple]:
    """Every row of a small relation (DuckDB relation or Spark DataFrame)."""
    if _is_spark(relation):
        return [tuple(row) for row in relation.collect()]
    return relation.fetchall()


def read_settings_json(relation) -> str:
    """The settings JSON of ``int_segmentation_settings`` (one row, one column)."""
    [(settings_json,)] = _rows(relation)
    return settings_json


def to_model_output(table: pa.Table, session):
    """The Python model's return value: the Arrow table itself on DuckDB; on
    Spark a DataFrame made from it (dbt-spark writes only DataFrames; Arrow
    keeps the column types, also of columns that are all null)."""
    if _is_spark(session):
        return session.createDataFrame(table)
    return table


def empty_registry_table() -> pa.Table:
    """A registry table with no row: this run registers nothing."""
    from .artifacts import ARTIFACT_SCHEMA

    return ARTIFACT_SCHEMA.empty_table()


@dataclass(frozen=True)
class RetrainDecision:
    """The row of ``int_segmentation_retrain_decision``: what this build does.

    The decision (segmentation_mode, the model in use, drift and verdict) is
    made in SQL; the fit only follows it.
    """

    should_fit: bool
    reason: str
    model_version_in_use: str | None


def read_retrain_decision(relation) -> RetrainDecision:
    """The one row of the decision model (a DuckDB relation from ``dbt.ref``).

    Raises
    ------
    SegmentationError
        When the relation does not hold exactly one row.
    """
    from .errors import SegmentationError

    rows = _rows(relation)
    if len(rows) != 1:
        raise SegmentationError(
            f"int_segmentation_retrain_decision holds {len(rows)} rows; it must "
            "hold exactly one. Rebuild it with `dbt build`."
        )
    row = dict(zip(relation.columns, rows[0], strict=True))
    return RetrainDecision(
        should_fit=bool(row["should_fit"]),
        reason=row["fit_reason"],
        model_version_in_use=row["model_version_in_use"],
    )


def read_artifacts(connection, registry) -> pa.Table:
    """Every row of the artifacts table ``registry`` (``dbt.this``), as Arrow.

    The registry model reads its own previous rows (to reuse a version it
    registered before, and to match segment ids with the model in use);
    which version is in use is decided in SQL, not here.
    """
    if _is_spark(connection):
        return connection.table(str(registry)).toArrow()
    table = connection.table(str(registry)).arrow()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    return table


def registered_versions(artifacts: pa.Table) -> frozenset[str]:
    """The model versions the artifacts table holds a fitted model for."""
    rows = artifacts.select(["model_version", "artifact"]).to_pylist()
    return frozenset(r["model_version"] for r in rows if r["artifact"] == "model")
