"""The customer feature matrix as the fit reads it, and the model version.

A model version is the hash of the data (:func:`data_fingerprint`) and the
settings: the same customers and settings always give the same version, so
a build can tell before fitting whether that model is already registered
(:func:`model_version_for`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import SegmentationConfig
from .errors import ConfigError, SegmentationError

__all__ = [
    "ID_COLUMN",
    "as_arrow_table",
    "data_fingerprint",
    "model_version_for",
    "numeric_column",
    "training_data",
]

ID_COLUMN = "customer_id"

ArrowLike = Any  # pa.Table, RecordBatch(Reader), DuckDB relation, Arrow stream


def as_arrow_table(data: ArrowLike) -> pa.Table:
    """Materialize Arrow-like input as a :class:`pyarrow.Table`.

    Accepts a table, a record batch, a record batch reader (what
    ``duckdb`` 1.5's ``relation.arrow()`` returns), a DuckDB relation or any
    object exporting the Arrow C stream interface.
    """
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if hasattr(data, "to_arrow_table"):
        return data.to_arrow_table()
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise TypeError(
        "expected a pyarrow.Table, RecordBatch, RecordBatchReader or DuckDB "
        f"relation, got {type(data).__name__}"
    )


def numeric_column(table: pa.Table, name: str) -> np.ndarray:
    column = table.column(name)
    kind = column.type
    if not (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_null(kind)
    ):
        raise ConfigError(
            f"segmentation.features: column {name!r} has type {kind}; allowed: "
            "numeric columns only."
        )
    values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)


def _check_columns(table: pa.Table, features: Sequence[str]) -> None:
    available = [c for c in table.column_names if c != ID_COLUMN]
    missing = [f for f in features if f not in table.column_names]
    if missing:
        raise ConfigError(
            f"segmentation.features: {', '.join(repr(m) for m in missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not in the input table; "
            f"available columns: {', '.join(available) or '(none)'}."
        )


def training_data(
    table: pa.Table, config: SegmentationConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Customer ids (sorted) and the raw feature matrix in the same order."""
    if ID_COLUMN not in table.column_names:
        raise SegmentationError(
            f"The input table has no {ID_COLUMN!r} column (columns: "
            f"{', '.join(table.column_names)}). Each row must be one customer "
            f"identified by {ID_COLUMN}."
        )
    _check_columns(table, config.features)
    ids = table.column(ID_COLUMN)
    if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        ids = ids.cast(pa.string())
    if ids.null_count:
        raise SegmentationError(
            f"{ids.null_count} rows of the input table have a null {ID_COLUMN}; "
            "every row must be one identified customer. Filter them out upstream."
        )
    n_distinct = pc.count_distinct(ids).as_py()
    if n_distinct != len(ids):
        counts = pc.value_counts(ids)
        repeated = [
            item["values"] for item in counts.to_pylist() if item["counts"] > 1
        ][:5]
        raise SegmentationError(
            f"The input table has {len(ids) - n_distinct} repeated {ID_COLUMN} "
            f"values (for example {', '.join(map(repr, repeated))}); it must hold "
            "one row per customer."
        )
    order = pc.sort_indices(ids)
    sorted_ids = ids.take(order).to_numpy(zero_copy_only=False)
    n = len(ids)
    X = np.empty((n, len(config.features)), dtype=np.float64)
    order_np = np.asarray(order)
    for j, feature in enumerate(config.features):
        X[:, j] = numeric_column(table, feature)[order_np]
    return np.asarray(sorted_ids, dtype=object), X


def data_fingerprint(
    customer_ids: Sequence[str] | np.ndarray,
    X: np.ndarray,
    features: Sequence[str],
) -> str:
    """SHA-256 of the customer ids and raw feature values.

    Parameters
    ----------
    customer_ids : sequence of str
        Ids sorted ascending (the canonical order).
    X : ndarray of shape (n_rows, len(features))
        Raw feature values in the same row order; NaN means null.
    features : sequence of str
        Column names of ``X``.

    Returns
    -------
    str
        64 hex characters.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([str(i) for i in customer_ids]).encode("utf-8"))
    digest.update(json.dumps(list(features)).encode("utf-8"))
    matrix = np.ascontiguousarray(X, dtype="<f8")
    missing = np.isnan(matrix)
    digest.update(np.packbits(missing).tobytes())
    digest.update(np.where(missing, 0.0, matrix).astype("<f8").tobytes())
    return digest.hexdigest()


def version_of(fingerprint: str, settings_json: str) -> str:
    return hashlib.sha256((fingerprint + settings_json).encode("utf-8")).hexdigest()[
        :16
    ]


def model_version_for(
    table: ArrowLike, config: SegmentationConfig | Mapping[str, Any] | None = None
) -> str:
    """The version a fit of ``table`` with ``config`` gets, without fitting.

    A model version is the hash of the data and the settings, so a build can
    tell before fitting whether that model is already registered.
    """
    if config is None or isinstance(config, Mapping):
        config = SegmentationConfig.from_dict(config)
    customer_ids, X = training_data(as_arrow_table(table), config)
    fingerprint = data_fingerprint(customer_ids, X, config.features)
    return version_of(fingerprint, json.dumps(config.to_dict(), sort_keys=True))


def too_few_customers(n: int, config: SegmentationConfig) -> SegmentationError:
    needed = max(2, config.k_min)
    noun = "customer" if n == 1 else "customers"
    return SegmentationError(
        f"Cannot segment {n} {noun}: segmentation.k_min is {config.k_min}, so "
        f"at least {needed} customers are needed (and in practice many times "
        "more, for segments to be meaningful). Check that the customer "
        "features model returned the expected rows, for example that the "
        "training cutoff date does not exclude most customers, or lower "
        "segmentation.k_min."
    )
