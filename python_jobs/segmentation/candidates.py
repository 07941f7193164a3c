"""Fitting and evaluating the clustering candidates on one prepared data set.

:class:`FitContext` holds the scaled data, the seeded samples and the
silhouette sample every candidate is measured on; :func:`evaluate_candidate`
fits, deploys (nearest centroid) and evaluates one candidate;
:func:`last_resort` is k-means with ``k_min`` clusters when no candidate has
two segments.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.decomposition import PCA

from .algorithms import (
    REFERENCE_SAMPLE_ALGORITHMS,
    SAMPLED_ALGORITHMS,
    CandidateSpec,
    build_deployed_model,
)
from .candidate_record import Candidate
from .config import SegmentationConfig
from .errors import SegmentationError
from .evaluation import (
    BOOTSTRAP_MAX_ROWS,
    EVALUATION_MAX_ROWS,
    SilhouetteSample,
    deployed_metrics,
)
from .fitting import FitData, fit_clusters
from .selection import cheap_rejections

logger = logging.getLogger(__name__)


def _identity(values: np.ndarray) -> np.ndarray:
    return values


def fit_pca(
    Xs: np.ndarray, config: SegmentationConfig
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray], dict[str, Any] | None]:
    if config.pca_components is None:
        return Xs, _identity, None
    wanted = config.pca_components
    if isinstance(wanted, int):
        wanted = min(wanted, Xs.shape[1], Xs.shape[0])
    pca = PCA(n_components=wanted, svd_solver="full", random_state=config.random_state)
    Z = pca.fit_transform(Xs)
    info = {
        "n_components": int(pca.n_components_),
        "explained_variance_ratio": round(
            float(pca.explained_variance_ratio_.sum()), 6
        ),
    }
    logger.info("PCA keeps %s components", info["n_components"])
    return np.ascontiguousarray(Z), pca.inverse_transform, info


def _sample_rows(n: int, size: int, random_state: int, stream: int) -> np.ndarray:
    """Sorted seeded sample of ``size`` row positions out of ``n`` (all if fewer)."""
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(np.random.SeedSequence([random_state, stream]))
    return np.sort(rng.choice(n, size=size, replace=False))


@dataclass
class FitContext:
    """The data every candidate is fitted and evaluated on.

    ``Xs`` holds all customers in the scaled space and ``Z`` in the fitting
    space (the same array without PCA). ``sample_index`` is the seeded
    sample of at most ``sample_size`` rows that the sampled algorithms are
    fitted on; ``boot_rows`` are positions within that sample used as the
    bootstrap reference (at most ``BOOTSTRAP_MAX_ROWS``), which is also
    what the costly algorithms (:data:`REFERENCE_SAMPLE_ALGORITHMS`) are
    fitted on, so their fits and their bootstrap refits see as many rows;
    ``silhouette`` the seeded sample every candidate's silhouette is
    measured on, with its distances; ``evaluation_index`` the seeded sample
    of at most ``EVALUATION_MAX_ROWS`` rows every candidate is labelled and
    measured on (None: all rows, when there are no more).
    """

    config: SegmentationConfig
    Xs: np.ndarray
    Z: np.ndarray
    to_scaled: Callable[[np.ndarray], np.ndarray]
    sample_index: np.ndarray = field(init=False)
    boot_rows: np.ndarray = field(init=False)
    full: FitData = field(init=False)
    sample: FitData = field(init=False)
    reference: FitData = field(init=False)
    silhouette: SilhouetteSample = field(init=False)
    evaluation_index: np.ndarray | None = field(init=False)
    Z_evaluated: np.ndarray = field(init=False)
    Xs_evaluated: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = self.n_rows
        seed = self.config.random_state
        self.sample_index = _sample_rows(n, self.config.sample_size, seed, stream=1)
        self.boot_rows = _sample_rows(
            self.sample_index.size, BOOTSTRAP_MAX_ROWS, seed, stream=3
        )
        self.full = FitData(self.Z)
        self.sample = FitData(np.ascontiguousarray(self.Z[self.sample_index]))
        self.reference = FitData(np.ascontiguousarray(self.Z[self.reference_index]))
        self.silhouette = SilhouetteSample.draw(self.Z, self.config.sample_size, seed)
        self.evaluation_index = None
        self.Z_evaluated, self.Xs_evaluated = self.Z, self.Xs
        if n > EVALUATION_MAX_ROWS:
            self.evaluation_index = _sample_rows(n, EVALUATION_MAX_ROWS, seed, stream=4)
            self.Z_evaluated = np.ascontiguousarray(self.Z[self.evaluation_index])
            self.Xs_evaluated = np.ascontiguousarray(self.Xs[self.evaluation_index])

    @property
    def n_rows(self) -> int:
        """Number of customers."""
        return int(self.Z.shape[0])

    @property
    def reference_index(self) -> np.ndarray:
        """Row positions of the bootstrap reference sample (within all rows)."""
        return self.sample_index[self.boot_rows]

    def data_for(self, spec: CandidateSpec) -> tuple[FitData, np.ndarray]:
        """Rows ``spec`` is fitted on, and the same rows in the scaled space.

        Every algorithm is fitted on the seeded sample; the costly ones on
        the bootstrap reference sample within it.
        """
        if spec.algorithm in REFERENCE_SAMPLE_ALGORITHMS:
            return self.reference, self.Xs[self.reference_index]
        if spec.algorithm in SAMPLED_ALGORITHMS:
            return self.sample, self.Xs[self.sample_index]
        return self.full, self.Xs


def evaluate_candidate(
    candidate_id: int, spec: CandidateSpec, ctx: FitContext
) -> tuple[Candidate, np.ndarray | None]:
    """Fit, deploy and evaluate one candidate on the evaluated rows
    (``ctx.evaluation_index``); also return its deployed labels of them."""
    config = ctx.config
    data, X_fit = ctx.data_for(spec)
    started = time.perf_counter()
    fit = fit_clusters(spec, data, config.random_state)
    candidate = Candidate(
        candidate_id=candidate_id,
        algorithm=spec.algorithm,
        parameters=fit.resolved_params,
        k=int(fit.centroids.shape[0]),
        fit_seconds=time.perf_counter() - started,
        problem=fit.problem,
    )
    if fit.centroids.shape[0] == 0:
        return candidate, None
    deployed = build_deployed_model(spec, fit, ctx.to_scaled, X_fit)
    labels, _ = deployed.assign(ctx.Xs_evaluated)
    silhouette_labels = None
    if ctx.evaluation_index is not None:
        silhouette_labels, _ = deployed.assign(ctx.Xs[ctx.silhouette.index])
    metrics = deployed_metrics(
        ctx.Z_evaluated, labels, fit.centroids, ctx.silhouette, silhouette_labels
    )
    candidate.deployed = deployed
    candidate.fit_centroids = fit.centroids
    candidate.sizes = metrics.sizes
    candidate.silhouette = metrics.silhouette
    candidate.davies_bouldin = metrics.davies_bouldin
    candidate.calinski_harabasz = metrics.calinski_harabasz
    # a sum over the customers: the evaluation sample's, scaled to all of them
    candidate.inertia = metrics.inertia * (ctx.n_rows / labels.size)
    candidate.smallest_segment_share = metrics.smallest_segment_share
    candidate.noise_share = metrics.noise_share
    candidate.fit_seconds = time.perf_counter() - started
    return candidate, labels


def log_candidate(candidate: Candidate) -> None:
    logger.info(
        "candidate %d %s %s: k=%d silhouette=%.3f smallest=%.3f noise=%.3f "
        "ari=%s (%.2fs)%s",
        candidate.candidate_id,
        candidate.algorithm,
        candidate.parameters_json,
        candidate.k,
        candidate.silhouette,
        candidate.smallest_segment_share,
        candidate.noise_share,
        "n/a" if candidate.stability_ari is None else f"{candidate.stability_ari:.3f}",
        candidate.fit_seconds,
        f" rejected: {candidate.rejection_reason}"
        if candidate.rejection_reason
        else "",
    )


def last_resort(candidates: list[Candidate], ctx: FitContext) -> tuple[Candidate, str]:
    """k-means with k_min clusters, when no candidate has two segments."""
    config = ctx.config
    spec = CandidateSpec(
        "kmeans",
        {
            "n_clusters": config.k_min,
            "init": "k-means++",
            "n_init": config.n_init,
            "minibatch": ctx.sample_index.size > config.minibatch_threshold,
            "last_resort": True,
        },
    )
    candidate, _ = evaluate_candidate(len(candidates) + 1, spec, ctx)
    reasons = cheap_rejections(candidate, config)
    candidate.rejection_reason = "; ".join(reasons) if reasons else None
    nonempty = 0 if candidate.sizes is None else int((candidate.sizes > 0).sum())
    if candidate.deployed is None or nonempty < 2:
        summary = "; ".join(
            f"{c.algorithm} {c.parameters_json}: {c.rejection_reason}"
            for c in candidates[:10]
        )
        raise SegmentationError(
            "No clustering produced two or more segments, not even k-means "
            f"with segmentation.k_min={config.k_min} clusters: the customers "
            "are (almost) identical on the features used "
            f"({', '.join(map(str, config.features))}). Candidates: {summary}."
        )
    candidate.is_selected = True
    note = (
        "No candidate had two or more usable segments "
        f"({len(candidates)} tried); fell back to k-means with k_min="
        f"{config.k_min} clusters, which the selection rule did not assess."
    )
    logger.warning(note)
    return candidate, note
