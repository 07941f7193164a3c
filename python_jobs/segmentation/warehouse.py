"""Moving data between the warehouse and the package, without pandas."""

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
    projection = ", ".join(f'"{c}"' for c in columns)
    table = relation.project(projection).order("customer_id").arrow()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    as_of_date = None
    if "as_of_date" in available:
        row = relation.aggregate("max(as_of_date)").fetchone()
        as_of_date = row[0] if row else None
    return table, as_of_date


def empty_registry_table() -> pa.Table:
    """A registry table with no row: this run registers nothing."""
    from .artifacts import ARTIFACT_SCHEMA

    return ARTIFACT_SCHEMA.empty_table()


@dataclass(frozen=True)
class RegistryState:
    """What the registry holds: every registered version, and the one in use.

    ``latest`` is the registry row (nested, see
    :func:`segmentation.artifacts.registry_row_from_artifacts`) of the version
    with the most recent ``use``: the model the previous build scored with.
    """

    versions: frozenset[str]
    latest: dict | None


def read_registry(connection, registry) -> RegistryState:
    """The registry state from the artifacts table ``registry``.

    ``registry`` is the name of the table (``dbt.this``), read through
    ``connection`` (the registry model reads its own previous rows; nothing
    downstream may be read here without a cycle, so this is the only reader
    of the registry outside SQL).
    """
    table = connection.table(str(registry)).arrow()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    from .artifacts import registry_row_from_artifacts

    uses = [
        r
        for r in table.select(["model_version", "artifact", "recorded_at"]).to_pylist()
        if r["artifact"] == "use"
    ]
    versions = frozenset(r["model_version"] for r in uses)
    if not uses:
        return RegistryState(versions, None)
    in_use = min(
        uses, key=lambda r: (-r["recorded_at"].timestamp(), r["model_version"])
    )
    return RegistryState(
        versions, registry_row_from_artifacts(table, in_use["model_version"])
    )
