"""Fitting one candidate: the algorithms behind :func:`fit_clusters`.

:func:`fit_clusters` fits a :class:`~segmentation.algorithms.CandidateSpec`
on the rows of a :class:`FitData` and returns its centroids in the fitting
space (:class:`ClusterFit`); :func:`~segmentation.algorithms.build_deployed_model`
turns them into the nearest-centroid model every candidate is judged as.

- k-means: k-means++ with ``n_init`` starts (``MiniBatchKMeans`` above
  ``minibatch_threshold`` rows);
- agglomerative: Ward's merge tree, computed once per :class:`FitData` and
  cut at every k (:func:`cut_ward_tree`);
- Gaussian mixture: full and diagonal covariances, the lower BIC kept; each
  is started from k-means and from random customers (:data:`GMM_STARTS`)
  and the highest likelihood kept, since a mixture started only from
  k-means repeats k-means' cut of an elongated group;
- HDBSCAN and DBSCAN: clusters and noise; ``eps`` from the k-distance
  curve (:func:`kth_neighbor_eps`).
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.cluster import DBSCAN, HDBSCAN, KMeans, MiniBatchKMeans, ward_tree
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

from . import fit_process
from .algorithms import GMM_REG_COVAR, CandidateSpec

__all__ = [
    "GMM_STARTS",
    "ClusterFit",
    "FitData",
    "cut_ward_tree",
    "fit_clusters",
    "fit_clusters_here",
    "kth_neighbor_eps",
]

logger = logging.getLogger(__name__)

GMM_COVARIANCE_TYPES = ("full", "diag")
GMM_MAX_ITER = 200
#: EM starts of the Gaussian mixture, (``init_params``, ``n_init``): one from
#: k-means and two from random customers; the highest likelihood is kept.
GMM_STARTS = (("kmeans", 1), ("random_from_data", 2))
MINIBATCH_BATCH_SIZE = 4096


class FitData:
    """Rows an algorithm is fitted on, with lazily shared expensive results.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_dims)
        Rows in the fitting space (scaled, or PCA scores).

    Notes
    -----
    The Ward merge tree does not depend on the number of clusters, so it is
    computed once per ``FitData`` and cut for every ``k``, also when
    candidates are fitted in several threads (:mod:`~segmentation.concurrency`).
    """

    def __init__(self, Z: np.ndarray, ward_children: np.ndarray | None = None) -> None:
        self.Z = Z
        self._ward_children = ward_children
        self._ward_lock = threading.Lock()

    def ward_children(self) -> np.ndarray:
        """Merge tree of Ward's agglomerative clustering of ``Z``."""
        with self._ward_lock:
            if self._ward_children is None:
                children, _, _, _ = ward_tree(self.Z)
                self._ward_children = np.asarray(children)
        return self._ward_children

    def known_ward_children(self) -> np.ndarray | None:
        """The merge tree if it has been computed, else None."""
        return self._ward_children

    def keep_ward_children(self, children: np.ndarray) -> None:
        """Keep a merge tree of ``Z`` computed elsewhere (the fitting
        process), unless one is kept already."""
        with self._ward_lock:
            if self._ward_children is None:
                self._ward_children = children


@dataclass
class ClusterFit:
    """Outcome of fitting one candidate.

    Attributes
    ----------
    centroids : ndarray of shape (k, n_dims)
        Cluster centres in the fitting space; ``k`` may be 0 or 1 when a
        density algorithm finds nothing useful.
    member_labels : ndarray or None
        Cluster of each fitted row (``-1`` for density noise), used to size
        the radii of density clusters.
    resolved_params : dict
        Parameters as actually used (for example the covariance type chosen
        by BIC), recorded with the candidate and used for refits.
    problem : str or None
        Why the fit is not usable as a segmentation (for example a
        Gaussian mixture that did not converge).
    error : str or None
        The error the estimator raised, when the fit failed.
    """

    centroids: np.ndarray
    member_labels: np.ndarray | None
    resolved_params: dict[str, Any]
    problem: str | None = None
    error: str | None = None


def kth_neighbor_eps(Z: np.ndarray, min_samples: int, quantile: float) -> float:
    """DBSCAN ``eps``: a quantile of the distance to the ``min_samples``-th neighbour.

    The point itself counts as its first neighbour, as in DBSCAN's
    ``min_samples``. Never returns 0 (duplicates), which would make every
    point noise.
    """
    n_neighbors = max(1, min(min_samples, Z.shape[0]))
    dist, _ = NearestNeighbors(n_neighbors=n_neighbors).fit(Z).kneighbors(Z)
    eps = float(np.quantile(dist[:, -1], quantile))
    return eps if eps > 0 else float(np.finfo(np.float64).eps)


# --------------------------------------------------------------------------
# Fitting


def cut_ward_tree(children: np.ndarray, n_leaves: int, k: int) -> np.ndarray:
    """Flat clusters obtained by stopping Ward merging at ``k`` clusters.

    Parameters
    ----------
    children : ndarray of shape (n_leaves - 1, 2)
        Merge tree as returned by :func:`sklearn.cluster.ward_tree`; merge
        ``i`` creates node ``n_leaves + i``.
    n_leaves : int
        Number of fitted rows.
    k : int
        Number of clusters wanted (at most ``n_leaves``).

    Returns
    -------
    ndarray of int64
        Cluster of each leaf, numbered ``0..k-1`` by first appearance.
    """
    k = max(1, min(int(k), n_leaves))
    n_merges = n_leaves - k
    parent = np.arange(2 * n_leaves - 1)
    if n_merges > 0:
        merged = np.asarray(children[:n_merges], dtype=np.int64)
        parent[merged[:, 0]] = n_leaves + np.arange(n_merges)
        parent[merged[:, 1]] = n_leaves + np.arange(n_merges)
    while True:  # pointer jumping until every node points at its root
        grand = parent[parent]
        if np.array_equal(grand, parent):
            break
        parent = grand
    roots = parent[:n_leaves]
    _, first, inverse = np.unique(roots, return_index=True, return_inverse=True)
    # renumber clusters by the first leaf that belongs to them
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse].astype(np.int64)


def _means_by_label(Z: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    centroids = np.zeros((k, Z.shape[1]), dtype=np.float64)
    counts = np.bincount(labels[labels >= 0], minlength=k).astype(np.float64)
    for j in range(Z.shape[1]):
        centroids[:, j] = np.bincount(
            labels[labels >= 0], weights=Z[labels >= 0, j], minlength=k
        )
    nonzero = counts > 0
    centroids[nonzero] /= counts[nonzero, None]
    return centroids


def _fit_kmeans(spec: CandidateSpec, data: FitData, seed: int) -> ClusterFit:
    k = int(spec.params["n_clusters"])
    if k > data.Z.shape[0]:
        return ClusterFit(
            np.empty((0, data.Z.shape[1])),
            None,
            dict(spec.params),
            f"k={k} exceeds the {data.Z.shape[0]} fitted rows",
        )
    if spec.params.get("minibatch"):
        model: KMeans | MiniBatchKMeans = MiniBatchKMeans(
            n_clusters=k,
            init="k-means++",
            n_init=int(spec.params["n_init"]),
            batch_size=MINIBATCH_BATCH_SIZE,
            random_state=seed,
        )
    else:
        model = KMeans(
            n_clusters=k,
            init="k-means++",
            n_init=int(spec.params["n_init"]),
            random_state=seed,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data.Z)
    return ClusterFit(np.asarray(model.cluster_centers_), None, dict(spec.params))


def _fit_agglomerative(spec: CandidateSpec, data: FitData, seed: int) -> ClusterFit:
    k = int(spec.params["n_clusters"])
    n = data.Z.shape[0]
    if k > n:
        return ClusterFit(
            np.empty((0, data.Z.shape[1])),
            None,
            dict(spec.params),
            f"k={k} exceeds the {n} fitted rows",
        )
    labels = cut_ward_tree(data.ward_children(), n, k)
    return ClusterFit(_means_by_label(data.Z, labels, k), labels, dict(spec.params))


def _best_mixture(
    k: int, covariance_type: str, reg_covar: float, Z: np.ndarray, seed: int
) -> GaussianMixture:
    """The highest-likelihood mixture over :data:`GMM_STARTS`.

    EM only finds a local optimum: started from k-means, it inherits the
    k-means split of an elongated group (k-means' squared error prefers
    cutting one long cluster in two to keeping two close round ones apart),
    which restarts from random customers escape.
    """
    best: GaussianMixture | None = None
    error: Exception | None = None
    for init_params, n_init in GMM_STARTS:
        model = GaussianMixture(
            n_components=k,
            covariance_type=covariance_type,
            reg_covar=reg_covar,
            max_iter=GMM_MAX_ITER,
            n_init=n_init,
            init_params=init_params,
            random_state=seed,
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(Z)
        except (ValueError, np.linalg.LinAlgError) as exc:
            error = exc
            continue
        if best is None or model.lower_bound_ > best.lower_bound_:
            best = model
    if best is None:
        assert error is not None
        raise error
    return best


def _fit_gaussian_mixture(spec: CandidateSpec, data: FitData, seed: int) -> ClusterFit:
    k = int(spec.params["n_components"])
    params = dict(spec.params)
    if k > data.Z.shape[0]:
        return ClusterFit(
            np.empty((0, data.Z.shape[1])),
            None,
            params,
            f"k={k} exceeds the {data.Z.shape[0]} fitted rows",
        )
    requested = params.get("covariance_type", "bic")
    types = GMM_COVARIANCE_TYPES if requested == "bic" else (requested,)
    reg_covar = float(params.get("reg_covar", GMM_REG_COVAR))
    best: GaussianMixture | None = None
    best_bic = np.inf
    errors: list[str] = []
    for covariance_type in types:
        try:
            model = _best_mixture(k, covariance_type, reg_covar, data.Z, seed)
        except (ValueError, np.linalg.LinAlgError) as exc:
            errors.append(f"{covariance_type}: {exc}")
            continue
        bic = float(model.bic(data.Z))
        if requested == "bic":
            params[f"bic_{covariance_type}"] = round(bic, 6)
        if bic < best_bic:
            best, best_bic = model, bic
    if best is None:
        return ClusterFit(
            np.empty((0, data.Z.shape[1])),
            None,
            params,
            "fit failed (" + "; ".join(errors) + ")",
        )
    params["covariance_type"] = best.covariance_type
    problem = None
    if not best.converged_:
        problem = f"did not converge in {GMM_MAX_ITER} EM iterations"
    return ClusterFit(np.asarray(best.means_), None, params, problem)


def _density_fit(labels: np.ndarray, data: FitData, params: dict) -> ClusterFit:
    found = np.unique(labels[labels >= 0])
    remap = np.full(int(labels.max(initial=-1)) + 2, -1, dtype=np.int64)
    remap[found] = np.arange(found.size)
    member_labels = np.where(labels >= 0, remap[np.maximum(labels, 0)], -1)
    centroids = _means_by_label(data.Z, member_labels, found.size)
    noise = float(np.mean(labels < 0)) if labels.size else 0.0
    params = dict(params)
    params["clusters_found"] = int(found.size)
    params["fit_noise_share"] = round(noise, 6)
    problem = None
    if found.size < 2:
        problem = f"found {found.size} cluster{'s' if found.size != 1 else ''}"
    return ClusterFit(centroids, member_labels, params, problem)


def _fit_hdbscan(spec: CandidateSpec, data: FitData, seed: int) -> ClusterFit:
    n = data.Z.shape[0]
    size = max(5, round(float(spec.params["min_cluster_share"]) * n))
    params = dict(spec.params, min_cluster_size=size, min_samples=size)
    if n <= size:
        return ClusterFit(
            np.empty((0, data.Z.shape[1])),
            None,
            params,
            f"min_cluster_size {size} needs more than {n} rows",
        )
    model = HDBSCAN(min_cluster_size=size, min_samples=size, copy=True)
    labels = np.asarray(model.fit_predict(data.Z), dtype=np.int64)
    return _density_fit(labels, data, params)


def _fit_dbscan(spec: CandidateSpec, data: FitData, seed: int) -> ClusterFit:
    min_samples = int(spec.params["min_samples"])
    eps = kth_neighbor_eps(data.Z, min_samples, float(spec.params["eps_quantile"]))
    params = dict(spec.params, eps=round(eps, 12))
    model = DBSCAN(eps=eps, min_samples=min_samples)
    labels = np.asarray(model.fit_predict(data.Z), dtype=np.int64)
    return _density_fit(labels, data, params)


_FITTERS: dict[str, Callable[[CandidateSpec, FitData, int], ClusterFit]] = {
    "kmeans": _fit_kmeans,
    "agglomerative": _fit_agglomerative,
    "gaussian_mixture": _fit_gaussian_mixture,
    "hdbscan": _fit_hdbscan,
    "dbscan": _fit_dbscan,
}


def fit_clusters(spec: CandidateSpec, data: FitData, seed: int) -> ClusterFit:
    """Fit one candidate on ``data`` and return its centroids.

    Parameters
    ----------
    spec : CandidateSpec
        Algorithm and hyperparameters.
    data : FitData
        Rows to fit on, in the fitting space. The caller passes the seeded
        sample for :data:`SAMPLED_ALGORITHMS`.
    seed : int
        Random state of the estimator.

    Returns
    -------
    ClusterFit
        Centroids and diagnostics. Failures that are a property of the
        candidate (no convergence, a single cluster, a numerical error) are
        reported in ``problem`` instead of raised.

    Notes
    -----
    Inside :func:`~segmentation.fit_process.fits_in`, the fit is made by the
    fitting process when it is free, with the same result (an agglomerative
    fit's merge tree comes back and is kept in ``data`` for the other ``k``).
    """
    process = fit_process.active()
    fit = None
    if process is not None:
        fit = process.try_fit(spec, data, seed)
    if fit is None:
        fit = fit_clusters_here(spec, data, seed)
    if fit.error is not None:
        logger.warning(
            "%s %s failed: %s", spec.algorithm, spec.parameters_json(), fit.error
        )
    return fit


def fit_clusters_here(spec: CandidateSpec, data: FitData, seed: int) -> ClusterFit:
    """:func:`fit_clusters` in this thread (also the fitting process's fit)."""
    try:
        fit = _FITTERS[spec.algorithm](spec, data, seed)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        return ClusterFit(
            np.empty((0, data.Z.shape[1])),
            None,
            dict(spec.params),
            f"fit failed: {exc}",
            error=str(exc),
        )
    fit.resolved_params["fit_rows"] = int(data.Z.shape[0])
    return fit
