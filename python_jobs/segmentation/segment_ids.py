"""Segment ids: numbered by centroid on a first model, matched to the
previous model's centroids on a retrain so a segment keeps its id."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .preprocessing import FeatureTransformer
from .selection import match_segment_ids, order_segments

logger = logging.getLogger(__name__)


def _previous_centroids(
    previous_model: Mapping[str, Any],
    transformer: FeatureTransformer,
    common: Sequence[str],
) -> dict[int, np.ndarray]:
    """Previous centroids over ``common`` features in the new scaled space.

    The previous centroids are taken in original units and passed through
    the new transform, so a change of scaling (or of the log decision)
    between the two models does not distort the matching; the previous
    scaled value is used when the original one is missing.
    """
    transforms = {t.feature: t for t in transformer.transforms_}
    values: dict[int, dict[str, float]] = {}
    for entry in previous_model.get("centroids") or []:
        segment = int(entry["segment_id"])
        feature = entry["feature"]
        if segment <= 0 or feature not in common:
            continue
        original = entry.get("centroid_original")
        if original is not None and math.isfinite(float(original)):
            scaled = float(transforms[feature].apply(np.asarray([float(original)]))[0])
        else:
            scaled = float(entry["centroid_scaled"])
        values.setdefault(segment, {})[feature] = scaled
    return {
        segment: np.asarray([by_feature[f] for f in common])
        for segment, by_feature in values.items()
        if all(f in by_feature for f in common)
    }


def assign_segment_ids(
    centroids_scaled: np.ndarray,
    centroids_original: np.ndarray,
    sizes: np.ndarray,
    transformer: FeatureTransformer,
    previous_model: Mapping[str, Any] | None,
) -> tuple[np.ndarray, str | None]:
    """Segment id of each centroid row, and a note on how they were given."""
    features = transformer.features_used_
    order = order_segments(centroids_original, sizes, features)
    ids = np.empty(len(order), dtype=np.int32)
    if previous_model is None:
        ids[order] = np.arange(1, len(order) + 1, dtype=np.int32)
        return ids, None
    previous_features = list(previous_model.get("features_used") or [])
    common = [f for f in features if f in previous_features]
    previous_version = previous_model.get("model_version")
    previous = (
        _previous_centroids(previous_model, transformer, common) if common else {}
    )
    if not common or not previous:
        start = max(
            [int(c["segment_id"]) for c in previous_model.get("centroids") or []],
            default=0,
        )
        ids[order] = np.arange(start + 1, start + len(order) + 1, dtype=np.int32)
        note = (
            f"Previous model {previous_version} shares no usable centroid with "
            f"this one; new segment ids start after {start}."
        )
        logger.warning(note)
        return ids, note
    columns = [features.index(f) for f in common]
    mapping = match_segment_ids(previous, centroids_scaled[order][:, columns])
    for position, centroid_row in enumerate(order):
        ids[centroid_row] = mapping[position]
    kept = sorted(int(i) for i in ids if int(i) in previous)
    new = sorted(int(i) for i in ids if int(i) not in previous)
    retired = sorted(set(previous) - set(kept))
    note = (
        f"Segment ids matched to previous model {previous_version} over "
        f"{len(common)} common features: kept {kept}"
        + (f", new {new}" if new else "")
        + (f", retired {retired}" if retired else "")
        + "."
    )
    logger.info(note)
    return ids, note
