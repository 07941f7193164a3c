"""The fitted model as flat artifact rows, built directly from the fit.

One row per artifact element, with the columns of
:data:`~segmentation.artifacts.ARTIFACT_SCHEMA` (the fields of each
artifact are listed once, there): the rows the registry model writes to the
warehouse. The nested registry row that Python reads (scoring reference,
segment-id matching) is made from these rows by
:func:`~segmentation.artifacts.nested_row`.
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

__all__ = ["Deployment", "artifact_rows"]


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


def _centroid_rows(deployment: Deployment, features: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "artifact": "centroid",
            "segment_id": int(segment),
            "feature": feature,
            "centroid_scaled": float(deployment.centroids_scaled[i, j]),
            "centroid_original": float(deployment.centroids_original[i, j]),
        }
        for i, segment in enumerate(deployment.ids)
        for j, feature in enumerate(features)
    ]


def _segment_rows(
    deployment: Deployment, config: SegmentationConfig
) -> list[dict[str, Any]]:
    n_rows = deployment.segment_ids.size
    present, sizes = np.unique(deployment.segment_ids, return_counts=True)
    counts = {int(s): int(c) for s, c in zip(present, sizes, strict=True)}

    def row(segment: int, radius, stability) -> dict[str, Any]:
        size = counts.get(segment, 0)
        return {
            "artifact": "segment",
            "segment_id": segment,
            "segment_size": size,
            "segment_share": size / n_rows,
            "radius": radius,
            "jaccard_stability": stability,
            "is_unstable": bool(
                stability is not None and stability < config.jaccard_unstable_below
            ),
        }

    # a density model keeps its outliers in segment 0: no radius, no stability
    rows = [] if deployment.radii is None else [row(0, None, None)]
    for i, segment in enumerate(deployment.ids):
        jaccard = deployment.jaccard
        stability = None if jaccard is None else _optional(float(jaccard[i]))
        radius = None if deployment.radii is None else float(deployment.radii[i])
        rows.append(row(int(segment), radius, stability))
    return rows


def _feature_rows(transformer: FeatureTransformer) -> list[dict[str, Any]]:
    """Each used feature's transform (and its quantile knots), then the dropped."""
    rows = []
    for record in transformer.to_records():
        knots = record.pop("quantile_knots", None) or []
        rows.append({"artifact": "feature", **record})
        rows += [
            {
                "artifact": "quantile_knot",
                "feature": record["feature"],
                "knot_number": number,
                "knot_value": value,
            }
            for number, value in enumerate(knots, start=1)
        ]
    rows += [
        {"artifact": "feature", "feature": feature, "drop_reason": reason}
        for feature, reason in transformer.features_dropped_
    ]
    return rows


def _reference_rows(
    transformer: FeatureTransformer, X: np.ndarray, config: SegmentationConfig
) -> list[dict[str, Any]]:
    """Training distribution of each used feature (after imputation), for PSI."""
    index = {name: j for j, name in enumerate(config.features)}
    rows = []
    for transform in transformer.transforms_:
        raw = X[:, index[transform.feature]]
        imputed = np.where(np.isnan(raw), transform.impute_value, raw)
        edges, shares = reference_distribution(imputed)
        rows += [
            {
                "artifact": "reference_bin",
                "feature": transform.feature,
                "bin_number": i + 1,
                "bin_lower": edges[i],
                "bin_upper": edges[i + 1],
                "reference_share": share,
            }
            for i, share in enumerate(shares)
        ]
    return rows


def artifact_rows(
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
) -> list[dict[str, Any]]:
    """The model's flat rows (every artifact but ``use``), recorded at ``trained_at``.

    In order: the ``model`` row, the features (with their quantile knots),
    centroids, segments, candidates (by id) and reference bins.
    """
    parameters = dict(selected.parameters)
    parameters["pca"] = pca_info
    model = {
        "artifact": "model",
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
    }
    rows = [
        model,
        *_feature_rows(transformer),
        *_centroid_rows(deployment, transformer.features_used_),
        *_segment_rows(deployment, config),
        *(
            {"artifact": "candidate", **c.to_record()}
            for c in sorted(candidates, key=lambda c: c.candidate_id)
        ),
        *_reference_rows(transformer, X, config),
    ]
    return [
        {"model_version": model_version, "recorded_at": trained_at, **row}
        for row in rows
    ]
