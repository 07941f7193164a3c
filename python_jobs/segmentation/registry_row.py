"""Building the registry row of a fitted model (nested, as Python reads it).

The row is what :mod:`~segmentation.artifacts` writes to the warehouse as
flat rows, and what :func:`~segmentation.scoring.score` and the id matching
of the next fit read back.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import SegmentationConfig
from .preprocessing import FeatureTransformer, reference_distribution
from .selection import Candidate, describe_selection_rule

__all__ = ["Deployment", "registry_row"]


@dataclass(frozen=True)
class Deployment:
    """The selected model as deployed: segments by ascending id.

    ``ids``, ``centroids_*``, ``radii`` and ``jaccard`` are aligned by
    centroid row; ``segment_ids`` and ``distances`` by training customer.
    """

    ids: np.ndarray
    centroids_scaled: np.ndarray
    centroids_original: np.ndarray
    radii: np.ndarray | None
    jaccard: np.ndarray | None
    segment_ids: np.ndarray
    distances: np.ndarray


def _optional(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _centroid_records(
    deployment: Deployment, features: list[str]
) -> list[dict[str, Any]]:
    return [
        {
            "segment_id": int(segment),
            "feature": feature,
            "centroid_scaled": float(deployment.centroids_scaled[i, j]),
            "centroid_original": float(deployment.centroids_original[i, j]),
        }
        for i, segment in enumerate(deployment.ids)
        for j, feature in enumerate(features)
    ]


def _segment_records(
    deployment: Deployment, config: SegmentationConfig
) -> list[dict[str, Any]]:
    n_rows = deployment.segment_ids.size
    present, sizes = np.unique(deployment.segment_ids, return_counts=True)
    counts = {int(s): int(c) for s, c in zip(present, sizes, strict=True)}
    segments = []
    if deployment.radii is not None:
        size0 = counts.get(0, 0)
        segments.append(
            {
                "segment_id": 0,
                "size": size0,
                "share": size0 / n_rows,
                "radius": None,
                "jaccard_stability": None,
                "is_unstable": False,
            }
        )
    for i, segment in enumerate(deployment.ids):
        size = counts.get(int(segment), 0)
        jaccard = deployment.jaccard
        stability = None if jaccard is None else _optional(float(jaccard[i]))
        radius = None if deployment.radii is None else float(deployment.radii[i])
        segments.append(
            {
                "segment_id": int(segment),
                "size": size,
                "share": size / n_rows,
                "radius": radius,
                "jaccard_stability": stability,
                "is_unstable": bool(
                    stability is not None and stability < config.jaccard_unstable_below
                ),
            }
        )
    return segments


def _reference_records(
    transformer: FeatureTransformer, X: np.ndarray, config: SegmentationConfig
) -> list[dict[str, Any]]:
    """Training distribution of each used feature (after imputation), for PSI."""
    index = {name: j for j, name in enumerate(config.features)}
    references = []
    for transform in transformer.transforms_:
        raw = X[:, index[transform.feature]]
        imputed = np.where(np.isnan(raw), transform.impute_value, raw)
        edges, shares = reference_distribution(imputed)
        references.append(
            {"feature": transform.feature, "bin_edges": edges, "shares": shares}
        )
    return references


def registry_row(
    *,
    model_version: str,
    fingerprint: str,
    trained_at: dt.datetime,
    training_cutoff_date: dt.date | None,
    settings_json: str,
    config: SegmentationConfig,
    selected: Candidate,
    pca_info: dict[str, Any] | None,
    fallback: bool,
    note: str | None,
    transformer: FeatureTransformer,
    X: np.ndarray,
    deployment: Deployment,
    candidates: list[Candidate],
) -> dict[str, Any]:
    """The registry row, see :data:`~segmentation.registry.REGISTRY_SCHEMA`."""
    features = transformer.features_used_
    parameters = dict(selected.parameters)
    parameters["pca"] = pca_info
    return {
        "model_version": model_version,
        "data_fingerprint": fingerprint,
        "trained_at": trained_at,
        "training_cutoff_date": training_cutoff_date,
        "training_customers": int(deployment.segment_ids.size),
        "settings_json": settings_json,
        "algorithm": selected.algorithm,
        "parameters_json": json.dumps(parameters, sort_keys=True),
        "n_segments": len(deployment.ids),
        "has_outlier_segment": deployment.radii is not None,
        "selection_rule": describe_selection_rule(config),
        "selection_fallback": bool(fallback),
        "selection_note": note,
        "features_used": list(features),
        "features_dropped": [
            {"feature": f, "reason": r} for f, r in transformer.features_dropped_
        ],
        "transform": transformer.to_records(),
        "centroids": _centroid_records(deployment, features),
        "segments": _segment_records(deployment, config),
        "candidates": [
            c.to_record() for c in sorted(candidates, key=lambda c: c.candidate_id)
        ],
        "reference_distributions": _reference_records(transformer, X, config),
    }
