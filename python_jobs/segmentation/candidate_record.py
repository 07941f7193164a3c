"""One evaluated clustering candidate: what the selection and the registry see.

:class:`Candidate` carries a candidate's metrics, stability, eligibility and
the reason it was or was not chosen; :meth:`Candidate.to_record` is its row of
``segmentation_model_evaluation``. The selection rule that fills in
``is_eligible``, ``is_selected`` and ``selection_reason`` is
:mod:`~segmentation.selection`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .algorithms import DeployedModel

__all__ = ["Candidate"]


@dataclass
class Candidate:
    """One evaluated candidate; the exported fields match the registry.

    Attributes
    ----------
    candidate_id : int
        1-based position in the candidate grid.
    algorithm : str
    parameters : dict
        Resolved hyperparameters (JSON-serializable).
    k : int
        Number of centroids (segments, without the outlier segment).
    silhouette, davies_bouldin, calinski_harabasz, inertia : float
        Metrics of the deployed labels (NaN when undefined).
    smallest_segment_share, noise_share : float
    stability_ari : float or None
        Mean bootstrap ARI, None when not computed.
    stability_resamples : int or None
        Number of bootstrap resamples ``stability_ari`` averages: fewer than
        ``bootstrap_samples`` when the bootstrap stopped once the
        ``stability_floor`` was out of reach (not exported; the rejection
        reason says it).
    fit_seconds : float
    problem : str or None
        Why the fit is unusable, if it is.
    is_eligible, is_selected : bool
    rejection_reason : str or None
    selection_reason : str or None
        Why the candidate was chosen or not, in words.
    feature_check : list of dict or None
        Per feature: share of customers at its most common value and share
        of the between-segment separation it carries
        (:func:`~segmentation.evaluation.feature_check`).
    deployed : DeployedModel or None
        Nearest-centroid model in the scaled space (not exported).
    fit_centroids : ndarray or None
        Centroids in the fitting space (not exported).
    sizes : ndarray or None
        Customers per centroid (not exported).
    jaccard : ndarray or None
        Mean bootstrap Jaccard per centroid (not exported).
    """

    candidate_id: int
    algorithm: str
    parameters: dict[str, Any]
    k: int
    silhouette: float = math.nan
    davies_bouldin: float = math.nan
    calinski_harabasz: float = math.nan
    inertia: float = math.nan
    smallest_segment_share: float = math.nan
    noise_share: float = math.nan
    stability_ari: float | None = None
    stability_resamples: int | None = None
    fit_seconds: float = 0.0
    problem: str | None = None
    is_eligible: bool = False
    rejection_reason: str | None = None
    is_selected: bool = False
    selection_reason: str | None = None
    feature_check: list[dict[str, Any]] | None = None
    deployed: DeployedModel | None = field(default=None, repr=False)
    fit_centroids: np.ndarray | None = field(default=None, repr=False)
    sizes: np.ndarray | None = field(default=None, repr=False)
    jaccard: np.ndarray | None = field(default=None, repr=False)

    def metric(self, name: str) -> float:
        """Value of the metric ``name``."""
        return float(getattr(self, name))

    @property
    def parameters_json(self) -> str:
        """Canonical JSON of the parameters."""
        return json.dumps(self.parameters, sort_keys=True)

    def to_record(self) -> dict[str, Any]:
        """Registry record of the candidate (NaN metrics become null)."""

        def number(value: float | None) -> float | None:
            if value is None or not math.isfinite(value):
                return None
            return float(value)

        return {
            "candidate_id": int(self.candidate_id),
            "algorithm": self.algorithm,
            "parameters_json": self.parameters_json,
            "k": int(self.k),
            "silhouette": number(self.silhouette),
            "davies_bouldin": number(self.davies_bouldin),
            "calinski_harabasz": number(self.calinski_harabasz),
            "inertia": number(self.inertia),
            "smallest_segment_share": number(self.smallest_segment_share),
            "noise_share": number(self.noise_share),
            "stability_ari": number(self.stability_ari),
            "fit_seconds": float(self.fit_seconds),
            "is_eligible": bool(self.is_eligible),
            "rejection_reason": self.rejection_reason,
            "is_selected": bool(self.is_selected),
            "selection_reason": self.selection_reason,
            "feature_check_json": (
                None
                if self.feature_check is None
                else json.dumps(self.feature_check, sort_keys=True)
            ),
        }
