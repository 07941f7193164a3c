"""The Python reference of the SQL scoring (macro score_customers).

Used by tests to check the SQL, and by nothing in the build: the warehouse's
customers are scored once, in SQL (int_customers_scored).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .data import ArrowLike, as_arrow_table, numeric_column
from .errors import SegmentationError
from .registry import model_from_registry_row

__all__ = ["score"]


def score(
    table: ArrowLike, model_row: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score customers with a registry row, as the SQL scoring does.

    For each row: transform the used features with the exported parameters,
    compute the Euclidean distance to every centroid in the scaled space,
    and take the nearest; when the model has an outlier segment and the
    distance exceeds that centroid's radius, the segment is 0.

    Parameters
    ----------
    table : pyarrow.Table or Arrow-like
        Rows to score, with the used feature columns (other columns are
        ignored).
    model_row : mapping
        A registry row, e.g. ``result.to_arrow().to_pylist()[0]``.

    Returns
    -------
    segment_id : ndarray of int32
        Assigned segment (0 = outlier), in the row order of ``table``.
    distance : ndarray of float64
        Distance to the nearest centroid.
    second_segment_id : ndarray of int32
        Segment of the second-nearest centroid (-1 with a single centroid).
    second_distance : ndarray of float64
        Distance to it (NaN with a single centroid).
    """
    table = as_arrow_table(table)
    registry = model_from_registry_row(model_row)
    missing = [f for f in registry.features if f not in table.column_names]
    if missing:
        raise SegmentationError(
            f"Cannot score: the table lacks the model's features {missing} "
            f"(columns: {', '.join(table.column_names)})."
        )
    columns = [numeric_column(table, f) for f in registry.features]
    Xs = np.empty((table.num_rows, len(columns)), dtype=np.float64)
    for j, (transform, column) in enumerate(
        zip(registry.transforms, columns, strict=True)
    ):
        Xs[:, j] = transform.apply(column)
    model = registry.model
    dist = model.distances(Xs)
    rows = np.arange(table.num_rows)
    if dist.shape[1] >= 2:
        ranked = np.argsort(dist, axis=1, kind="stable")[:, :2]
        first, second = ranked[:, 0], ranked[:, 1]
        second_id = registry.segment_ids[second].astype(np.int32)
        second_distance = dist[rows, second]
    else:
        first = np.zeros(table.num_rows, dtype=np.int64)
        second_id = np.full(table.num_rows, -1, dtype=np.int32)
        second_distance = np.full(table.num_rows, np.nan)
    distance = dist[rows, first]
    segment = registry.segment_ids[first].astype(np.int32)
    if model.radii is not None:
        segment[distance > model.radii[first]] = 0
    return segment, distance, second_id, second_distance
