"""The nested registry row in Python: its Arrow schema and the scorer it holds.

The warehouse keeps a fitted model as flat rows (:mod:`~segmentation.artifacts`,
built by :mod:`~segmentation.registry_row`); Python reads one model as a
nested row grouped from them (:func:`~segmentation.artifacts.nested_row`),
whose Arrow schema is :data:`REGISTRY_SCHEMA`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .algorithms import DeployedModel
from .artifacts import (
    CANDIDATE_FIELDS,
    CENTROID_FIELDS,
    MODEL_FIELDS,
    SEGMENT_FIELDS,
    TRANSFORM_FIELDS,
)
from .errors import SegmentationError
from .preprocessing import ColumnTransform

__all__ = ["REGISTRY_SCHEMA", "RegistryModel", "model_from_registry_row"]

FEATURE_DROP_TYPE = pa.struct([("feature", pa.string()), ("reason", pa.string())])
# the nested types take their fields from the flat artifacts' lists
TRANSFORM_TYPE = pa.struct(
    [*TRANSFORM_FIELDS, ("quantile_knots", pa.list_(pa.float64()))]
)
CENTROID_TYPE = pa.struct(
    [CENTROID_FIELDS[0], ("feature", pa.string()), *CENTROID_FIELDS[1:]]
)
SEGMENT_TYPE = pa.struct(
    [
        CENTROID_FIELDS[0],
        ("size", SEGMENT_FIELDS[0][1]),
        ("share", SEGMENT_FIELDS[1][1]),
        *SEGMENT_FIELDS[2:],
    ]
)
CANDIDATE_TYPE = pa.struct(
    [
        CANDIDATE_FIELDS[0],
        ("algorithm", pa.string()),
        ("parameters_json", pa.string()),
        *CANDIDATE_FIELDS[1:],
    ]
)
REFERENCE_TYPE = pa.struct(
    [
        ("feature", pa.string()),
        ("bin_edges", pa.list_(pa.float64())),
        ("shares", pa.list_(pa.float64())),
    ]
)

#: Schema of the one-row table returned by ``SegmentationResult.to_arrow``.
REGISTRY_SCHEMA = pa.schema(
    [
        pa.field("model_version", pa.string()),
        *MODEL_FIELDS,
        pa.field("features_used", pa.list_(pa.string())),
        pa.field("features_dropped", pa.list_(FEATURE_DROP_TYPE)),
        pa.field("transform", pa.list_(TRANSFORM_TYPE)),
        pa.field("centroids", pa.list_(CENTROID_TYPE)),
        pa.field("segments", pa.list_(SEGMENT_TYPE)),
        pa.field("candidates", pa.list_(CANDIDATE_TYPE)),
        pa.field("reference_distributions", pa.list_(REFERENCE_TYPE)),
    ]
)


@dataclass(frozen=True)
class RegistryModel:
    """The scoring part of a registry row.

    Attributes
    ----------
    transforms : tuple of ColumnTransform
        Per-feature transform, in column (``position``) order.
    segment_ids : ndarray of int32
        Segment id of each centroid row, ascending (segment 0 excluded).
    model : DeployedModel
        Centroids in the scaled space (rows aligned with ``segment_ids``)
        and radii, or None when the model has no outlier segment.
    """

    transforms: tuple[ColumnTransform, ...]
    segment_ids: np.ndarray
    model: DeployedModel

    @property
    def features(self) -> list[str]:
        """Feature names in column order."""
        return [t.feature for t in self.transforms]


def _require(row: Mapping[str, Any], key: str) -> Any:
    if key not in row or row[key] is None:
        raise SegmentationError(
            f"The model registry row has no {key!r}; pass a row as returned by "
            "SegmentationResult.to_arrow().to_pylist()[0]."
        )
    return row[key]


def model_from_registry_row(row: Mapping[str, Any]) -> RegistryModel:
    """Rebuild the nearest-centroid scorer from a registry row.

    Parameters
    ----------
    row : mapping
        One registry row, e.g. ``table.to_pylist()[0]``.

    Returns
    -------
    RegistryModel
    """
    records = sorted(_require(row, "transform"), key=lambda r: int(r["position"]))
    transforms = tuple(ColumnTransform.from_record(r) for r in records)
    position = {t.feature: j for j, t in enumerate(transforms)}
    entries = [c for c in _require(row, "centroids") if int(c["segment_id"]) > 0]
    segment_ids = np.asarray(
        sorted({int(c["segment_id"]) for c in entries}), dtype=np.int32
    )
    row_of = {int(s): i for i, s in enumerate(segment_ids)}
    centroids = np.full((segment_ids.size, len(transforms)), np.nan)
    for entry in entries:
        if entry["feature"] in position:
            centroids[row_of[int(entry["segment_id"])], position[entry["feature"]]] = (
                float(entry["centroid_scaled"])
            )
    if np.isnan(centroids).any():
        raise SegmentationError(
            "The model registry row is incomplete: some segment lacks a centroid "
            "value for a feature of its transform."
        )
    radii = None
    if row.get("has_outlier_segment"):
        radius_of = {
            int(s["segment_id"]): s["radius"]
            for s in _require(row, "segments")
            if int(s["segment_id"]) > 0
        }
        radii = np.asarray(
            [
                np.inf if radius_of.get(int(s)) is None else float(radius_of[int(s)])
                for s in segment_ids
            ],
            dtype=np.float64,
        )
    return RegistryModel(transforms, segment_ids, DeployedModel(centroids, radii))
