"""The candidate grid and the nearest-centroid deployment of every candidate.

:func:`candidate_specs` lists the candidates (:class:`CandidateSpec`: an
algorithm with fixed hyperparameters); :mod:`~segmentation.fitting` fits
them; :func:`build_deployed_model` deploys each fit as a
:class:`DeployedModel`.

Every candidate, whatever algorithm found it, is deployed the same way so
that SQL can score it: each cluster becomes a centroid (the mean of its
members in the fitting space, mapped back to the scaled space when PCA is
used) and every customer gets the segment of its nearest centroid. Density
algorithms (HDBSCAN, DBSCAN) also get a radius per cluster, the 95th
percentile of its members' distances to the centroid (widened by
:data:`RADIUS_MARGIN`, so that SQL's rounding does not move a member at
the percentile out); customers farther
than the radius of their nearest centroid are outliers (label ``-1`` here,
segment 0 in the registry).

Which rows an algorithm sees is decided by the caller: every algorithm
(:data:`SAMPLED_ALGORITHMS`) is fitted on a seeded sample, so the cost of
the candidates does not grow with the number of customers. k-means, the
baseline, sees the sample of at most ``sample_size`` rows (cheap per row, it
still took most of the fit on 87,000 customers when it saw them all;
``MiniBatchKMeans`` is used only if the sample itself exceeds
``minibatch_threshold``). The costly algorithms
(:data:`REFERENCE_SAMPLE_ALGORITHMS`) see the bootstrap reference sample,
at most 2,500 of those rows, the rows their bootstrap refits are drawn
from: agglomerative clustering, HDBSCAN and DBSCAN need quadratic memory or
time, and the Gaussian mixture's EM costs O(n k d^2) per iteration for each
of the two covariance types and each start tried (on the real data's 4,334
customers these fits took 7 of the fit's 11 CPU seconds on all of them, 3 on
2,500). Whatever the rows, each candidate's deployed model then labels the
evaluation sample (at most
:data:`~segmentation.evaluation.EVALUATION_MAX_ROWS` customers) it is
measured on, and the chosen one every customer, which is linear in the
number of customers.

Plain k-means, the baseline every other algorithm must beat, is always in
the grid, whether or not ``algorithms`` names it.

The Gaussian mixture chooses its covariance type (full or diagonal) by BIC
(:mod:`~segmentation.fitting`). HDBSCAN's ``min_cluster_size``
(= ``min_samples``) is 1%, 2% or 5% of the fitted rows; DBSCAN's ``eps`` is
the 80th, 90th or 95th percentile of the distance to the ``min_samples``-th
neighbour.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import SegmentationConfig

if TYPE_CHECKING:
    from .fitting import ClusterFit

__all__ = [
    "DENSITY_ALGORITHMS",
    "REFERENCE_SAMPLE_ALGORITHMS",
    "SAMPLED_ALGORITHMS",
    "CandidateSpec",
    "DeployedModel",
    "build_deployed_model",
    "candidate_specs",
]

#: Algorithms fitted on the seeded sample rather than on every customer.
SAMPLED_ALGORITHMS = frozenset(
    {"kmeans", "agglomerative", "gaussian_mixture", "hdbscan", "dbscan"}
)
#: Algorithms fitted on the bootstrap reference sample (at most 2,500 rows of
#: the seeded sample, :data:`~segmentation.evaluation.BOOTSTRAP_MAX_ROWS`):
#: Ward's tree and HDBSCAN cost the square of the rows, the mixture's EM runs
#: 2 covariance types x 3 starts; k-means, the baseline, keeps the sample.
REFERENCE_SAMPLE_ALGORITHMS = frozenset(
    {"agglomerative", "gaussian_mixture", "hdbscan", "dbscan"}
)
#: Algorithms that may leave customers unassigned (segment 0).
DENSITY_ALGORITHMS = frozenset({"hdbscan", "dbscan"})

RADIUS_PERCENTILE = 95.0
#: A radius is the percentile widened by this share of itself. The
#: percentile often is one member's distance, and SQL scoring sums that
#: member's squared differences in its own order, a rounding away from
#: NumPy's: unwidened, the member was now and then scored an outlier by
#: SQL and not by the fit (1 run in 12 of a test, one unit in the last
#: place). The widening is far above rounding, far below any real distance.
RADIUS_MARGIN = 1e-9
HDBSCAN_SIZE_SHARES = (0.01, 0.02, 0.05)
DBSCAN_EPS_QUANTILES = (0.80, 0.90, 0.95)
GMM_REG_COVAR = 1e-3


@dataclass(frozen=True)
class CandidateSpec:
    """One algorithm with fixed hyperparameters.

    Parameters
    ----------
    algorithm : str
        One of the algorithm names the settings check allows
        (`macros/segmentation_settings_problem.sql`): kmeans, agglomerative,
        gaussian_mixture, hdbscan or dbscan.
    params : dict
        Hyperparameters; JSON-serializable. Keys that only describe the fit
        (such as ``fit_rows``) are ignored when refitting.
    """

    algorithm: str
    params: dict[str, Any] = field(default_factory=dict)

    def parameters_json(self) -> str:
        """Canonical JSON of the parameters."""
        return json.dumps(self.params, sort_keys=True)


@dataclass(frozen=True)
class DeployedModel:
    """Nearest-centroid model in the scaled space.

    Attributes
    ----------
    centroids : ndarray of shape (k, n_features)
        Centroids in the scaled feature space.
    radii : ndarray of shape (k,) or None
        Outlier radius per centroid (density algorithms) or None.
    """

    centroids: np.ndarray
    radii: np.ndarray | None = None

    @property
    def n_clusters(self) -> int:
        """Number of centroids."""
        return int(self.centroids.shape[0])

    def distances(self, X: np.ndarray) -> np.ndarray:
        """Euclidean distance of every row of ``X`` to every centroid.

        Computed as ``sqrt(sum((x - c) ** 2))`` per centroid, the same way the
        SQL scoring does, rather than through the dot-product expansion.
        """
        X = np.asarray(X, dtype=np.float64)
        out = np.empty((X.shape[0], self.n_clusters), dtype=np.float64)
        for j, centre in enumerate(self.centroids):
            diff = X - centre
            np.einsum("ij,ij->i", diff, diff, out=out[:, j])
        return np.sqrt(out, out=out)

    def assign(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Label rows with their nearest centroid (``-1`` beyond the radius).

        Returns
        -------
        labels : ndarray of int64
            Index of the nearest centroid, or ``-1`` for outliers.
        distance : ndarray of float64
            Distance to the nearest centroid.
        """
        dist = self.distances(X)
        nearest = np.argmin(dist, axis=1)
        best = dist[np.arange(dist.shape[0]), nearest]
        labels = nearest.astype(np.int64)
        if self.radii is not None:
            labels[best > self.radii[nearest]] = -1
        return labels, best


# --------------------------------------------------------------------------
# Candidate grid


def candidate_specs(
    config: SegmentationConfig, n_rows: int, n_dims: int
) -> list[CandidateSpec]:
    """Grid of candidates for every configured algorithm, in a fixed order.

    Density parameters are relative to the number of fitted rows (a share of
    rows for HDBSCAN's ``min_cluster_size``, a quantile of the k-distance
    curve for DBSCAN's ``eps``), so a refit on a bootstrap resample of
    another size uses comparable settings; the absolute values used are
    recorded with each fit.

    Parameters
    ----------
    config : SegmentationConfig
        Settings (algorithms, k range, seeds).
    n_rows : int
        Number of customers; k-means is fitted on at most ``sample_size``
        of them, with mini-batch k-means above ``minibatch_threshold``.
    n_dims : int
        Dimension of the fitting space (sizes DBSCAN's ``min_samples``).

    Returns
    -------
    list of CandidateSpec
    """
    specs: list[CandidateSpec] = []
    ks = range(config.k_min, config.k_max + 1)
    algorithms = list(config.algorithms)
    if "kmeans" not in algorithms:
        algorithms.insert(0, "kmeans")
    for algorithm in algorithms:
        if algorithm == "kmeans":
            fitted = min(n_rows, config.sample_size)
            minibatch = fitted > config.minibatch_threshold
            specs.extend(
                CandidateSpec(
                    "kmeans",
                    {
                        "n_clusters": k,
                        "init": "k-means++",
                        "n_init": config.n_init,
                        "minibatch": minibatch,
                    },
                )
                for k in ks
            )
        elif algorithm == "agglomerative":
            specs.extend(
                CandidateSpec("agglomerative", {"n_clusters": k, "linkage": "ward"})
                for k in ks
            )
        elif algorithm == "gaussian_mixture":
            specs.extend(
                CandidateSpec(
                    "gaussian_mixture",
                    {
                        "n_components": k,
                        "covariance_type": "bic",
                        "reg_covar": GMM_REG_COVAR,
                    },
                )
                for k in ks
            )
        elif algorithm == "hdbscan":
            specs.extend(
                CandidateSpec("hdbscan", {"min_cluster_share": share})
                for share in HDBSCAN_SIZE_SHARES
            )
        elif algorithm == "dbscan":
            min_samples = int(min(20, max(5, 2 * n_dims)))
            specs.extend(
                CandidateSpec("dbscan", {"eps_quantile": q, "min_samples": min_samples})
                for q in DBSCAN_EPS_QUANTILES
            )
        else:  # pragma: no cover - the config validates the names
            raise ValueError(f"unknown algorithm {algorithm!r}")
    return specs


# --------------------------------------------------------------------------
# Deployment


def build_deployed_model(
    spec: CandidateSpec,
    fit: ClusterFit,
    to_scaled: Callable[[np.ndarray], np.ndarray],
    X_fit_scaled: np.ndarray,
) -> DeployedModel:
    """Turn fitted centroids into a nearest-centroid model in scaled space.

    Parameters
    ----------
    spec : CandidateSpec
        The candidate (decides whether radii are used).
    fit : ClusterFit
        Result of :func:`~segmentation.fitting.fit_clusters`.
    to_scaled : callable
        Maps fitting-space points to the scaled space (identity, or the PCA
        inverse transform).
    X_fit_scaled : ndarray
        The fitted rows in the scaled space, aligned with
        ``fit.member_labels``; used for the radii of density clusters.

    Returns
    -------
    DeployedModel
    """
    centroids = to_scaled(fit.centroids) if fit.centroids.shape[0] else fit.centroids
    centroids = np.asarray(centroids, dtype=np.float64)
    if spec.algorithm not in DENSITY_ALGORITHMS or centroids.shape[0] == 0:
        return DeployedModel(centroids, None)
    labels = fit.member_labels
    assert labels is not None
    radii = np.zeros(centroids.shape[0], dtype=np.float64)
    for c in range(centroids.shape[0]):
        members = X_fit_scaled[labels == c]
        diff = members - centroids[c]
        dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        radii[c] = (
            float(np.percentile(dist, RADIUS_PERCENTILE)) * (1.0 + RADIUS_MARGIN)
            if dist.size
            else 0.0
        )
    return DeployedModel(centroids, radii)
