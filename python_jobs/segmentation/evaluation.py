"""Quality metrics and bootstrap stability of deployed candidates.

All metrics are computed on the *deployed* labels, i.e. the nearest-centroid
assignment that SQL will reproduce, not on the labels the clustering
algorithm produced while fitting. Quality metrics are measured in the
fitting space (the scaled features, or their PCA scores when PCA is on);
outliers (label ``-1``, segment 0) are left out of Davies-Bouldin,
Calinski-Harabasz and inertia but count in the shares, and the silhouette
counts them as a group of their own: setting customers apart as outliers
must not buy a density model a better silhouette than the segments it keeps.
The silhouette's seeded sample and its pairwise distances are the same for
every candidate, so they are computed once per fit
(:meth:`SilhouetteSample.draw`) and every candidate's silhouette is scored
on them with one matrix product (:func:`silhouette_from_distances`, the
value of :func:`sklearn.metrics.silhouette_score` on the same sample).

Stability follows the idea of Hennig's ``clusterboot``: the candidate is
refitted on bootstrap resamples of the reference sample, each refit is
deployed, the reference rows are labelled by it and compared with the
candidate's own labels through the adjusted Rand index (ARI) and, per
segment, the best Jaccard similarity among the refit's segments on the
resampled points.

The per-feature check (:func:`feature_check`) tells whether a feature
carries signal or only splits customers along a near-constant or
near-binary value: per feature, the share of customers at its most common
raw value (a one-order customer's ratio features sit at a few values) and
its share of the between-segment separation (between-segment sum of
squares in the scaled space, over all features' total).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import adjusted_rand_score, pairwise_distances

from . import concurrency
from .algorithms import CandidateSpec, build_deployed_model
from .fitting import FitData, fit_clusters

__all__ = [
    "BOOTSTRAP_MAX_ROWS",
    "EVALUATION_MAX_ROWS",
    "DeployedMetrics",
    "SilhouetteSample",
    "StabilityBootstrap",
    "StabilityJob",
    "StabilityResult",
    "attach_feature_checks",
    "bootstrap_stability",
    "cluster_scores",
    "deployed_metrics",
    "feature_check",
    "segment_jaccard",
    "silhouette_from_distances",
    "top_value_shares",
]

logger = logging.getLogger(__name__)

#: Largest bootstrap reference sample. Refitting every candidate
#: ``bootstrap_samples`` times on the full ``sample_size`` rows (5000 by
#: default) takes most of the fitting time; 2500 rows keep the default run
#: well under 30 s on two cores while leaving segments of 2% some 50
#: members per resample.
BOOTSTRAP_MAX_ROWS = 2500

#: Largest evaluation sample: every candidate labels this seeded sample of
#: the customers (all of them when there are fewer) and its sizes, shares,
#: Davies-Bouldin, Calinski-Harabasz, inertia and feature checks are
#: measured on it, so the ~20 candidates' evaluation does not grow with the
#: customer count (on 403,000 customers it took 16 of the fit's 26 s). At
#: 50,000 rows a segment of 2% of the customers holds some 1,000 of them:
#: its share is known to about 0.06 percentage points. Only the selected
#: model labels every customer.
EVALUATION_MAX_ROWS = 50_000


def silhouette_from_distances(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette coefficient of points with known pairwise distances.

    The same value as ``silhouette_score(distances, labels,
    metric="precomputed")``: per point, ``a`` is the mean distance to the
    other members of its group, ``b`` the smallest mean distance to another
    group and the coefficient ``(b - a) / max(a, b)``, 0 for a point alone
    in its group. The per-group distance sums are one product of the
    distance matrix with the group indicator matrix, instead of a
    ``bincount`` per row.

    Parameters
    ----------
    distances : ndarray of shape (n, n)
        Symmetric distances with a zero diagonal.
    labels : ndarray of shape (n,)
        Group of every point (any integers; ``-1`` is a group like another).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Unless there are between 2 and ``n - 1`` groups.
    """
    n = labels.shape[0]
    groups, group_of = np.unique(labels, return_inverse=True)
    if not 2 <= groups.size <= n - 1:
        raise ValueError(
            f"Number of labels is {groups.size}. Valid values are 2 to "
            "n_samples - 1 (inclusive)"
        )
    indicator = np.zeros((n, groups.size), dtype=np.float64)
    indicator[np.arange(n), group_of] = 1.0
    sums = distances @ indicator
    sizes = np.bincount(group_of, minlength=groups.size).astype(np.float64)
    rows = np.arange(n)
    own = sums[rows, group_of]
    sums[rows, group_of] = np.inf
    nearest_other = (sums / sizes).min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_own = own / (sizes[group_of] - 1.0)
        coefficient = (nearest_other - mean_own) / np.maximum(mean_own, nearest_other)
    # a point alone in its group (0 / 0) scores 0
    return float(np.mean(np.nan_to_num(coefficient)))


@dataclass(frozen=True)
class SilhouetteSample:
    """The rows every candidate's silhouette is measured on, with their distances.

    Attributes
    ----------
    index : ndarray of int
        Row positions of the sample: every row when there are at most
        ``sample_size``, else the draw ``silhouette_score(sample_size=...,
        random_state=...)`` makes, so the scores are that call's.
    distances : ndarray of shape (len(index), len(index))
        Euclidean distances between the sampled rows in the fitting space
        (``sample_size`` squared floats: 200 MB at the default 5,000).
    """

    index: np.ndarray
    distances: np.ndarray

    @classmethod
    def draw(
        cls, Z: np.ndarray, sample_size: int, random_state: int
    ) -> SilhouetteSample:
        """Draw the seeded sample of the rows of ``Z`` and compute its distances.

        Parameters
        ----------
        Z : ndarray of shape (n_rows, n_dims)
            All customers in the fitting space.
        sample_size : int
            Largest number of rows the silhouette sees.
        random_state : int
            Seed of the draw.
        """
        n = Z.shape[0]
        if n > sample_size:
            index = np.random.RandomState(random_state).permutation(n)[:sample_size]
        else:
            index = np.arange(n)
        return cls(index, pairwise_distances(Z[index], metric="euclidean"))

    def score(self, labels: np.ndarray) -> float:
        """Mean silhouette of the sampled rows under ``labels`` (all rows' labels).

        Raises ``ValueError`` when the sample holds fewer than two labels.
        """
        return self.score_sample(labels[self.index])

    def score_sample(self, sample_labels: np.ndarray) -> float:
        """Mean silhouette under the labels of the sampled rows only (in
        ``index`` order). Raises ``ValueError`` as :meth:`score`."""
        return silhouette_from_distances(self.distances, sample_labels)


@dataclass(frozen=True)
class DeployedMetrics:
    """Quality of one deployed candidate on the customers evaluated (all of
    them, or the evaluation sample).

    Attributes
    ----------
    sizes : ndarray of int64
        Customers per centroid (outliers excluded).
    silhouette, davies_bouldin, calinski_harabasz : float
        sklearn scores; Davies-Bouldin and Calinski-Harabasz on the
        non-outlier rows, the silhouette with the outliers as a group of
        their own; NaN when undefined (fewer than two non-empty segments).
    inertia : float
        Sum of squared distances of non-outlier rows to their centroid.
    smallest_segment_share : float
        Smallest segment size divided by the customers evaluated.
    noise_share : float
        Share of customers in the outlier segment.
    """

    sizes: np.ndarray
    silhouette: float
    davies_bouldin: float
    calinski_harabasz: float
    inertia: float
    smallest_segment_share: float
    noise_share: float


def deployed_metrics(
    Z: np.ndarray,
    labels: np.ndarray,
    centroids: np.ndarray,
    silhouette: SilhouetteSample,
    silhouette_labels: np.ndarray | None = None,
) -> DeployedMetrics:
    """Compute the quality metrics of deployed labels.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_dims)
        The customers evaluated (all, or the evaluation sample) in the
        fitting space.
    labels : ndarray of shape (n_rows,)
        Deployed labels ``0..k-1``, ``-1`` for outliers.
    centroids : ndarray of shape (k, n_dims)
        Centroids in the fitting space.
    silhouette : SilhouetteSample
        The seeded sample the silhouette is measured on.
    silhouette_labels : ndarray or None
        Deployed labels of the silhouette's rows; None when ``Z`` holds all
        customers (``silhouette.index`` then picks them out of ``labels``).

    Returns
    -------
    DeployedMetrics
    """
    n = labels.shape[0]
    k = centroids.shape[0]
    inside = labels >= 0
    Zi, li = Z[inside], labels[inside]
    sizes = np.bincount(li, minlength=k).astype(np.int64)
    noise_share = float(np.count_nonzero(~inside) / n) if n else 0.0
    smallest = float(sizes.min() / n) if k and n else 0.0
    inertia = 0.0
    if k:
        diff = Zi - centroids[li]
        inertia = float(np.einsum("ij,ij->", diff, diff))
    nan = float("nan")
    sil = db = ch = nan
    if int((sizes > 0).sum()) >= 2 and li.size > int((sizes > 0).sum()):
        try:
            sil = (
                silhouette.score(labels)
                if silhouette_labels is None
                else silhouette.score_sample(silhouette_labels)
            )
        except ValueError as exc:  # e.g. the sample holds a single segment
            logger.debug("silhouette undefined: %s", exc)
        db, ch = cluster_scores(Zi, li)
    return DeployedMetrics(
        sizes=sizes,
        silhouette=sil,
        davies_bouldin=db,
        calinski_harabasz=ch,
        inertia=inertia if k else nan,
        smallest_segment_share=smallest,
        noise_share=noise_share,
    )


def cluster_scores(Z: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Davies-Bouldin and Calinski-Harabasz scores of ``labels`` on ``Z``.

    The values of :func:`sklearn.metrics.davies_bouldin_score` and
    :func:`sklearn.metrics.calinski_harabasz_score`, from one pass over the
    rows: the cluster means and every row's offset from its cluster's mean
    are computed once for both scores (sklearn computes distances cluster by
    cluster, twice; on 87,000 customers that took a second of the fit).

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_dims)
        Rows (outliers left out by the caller).
    labels : ndarray of shape (n_rows,)
        Non-negative cluster of every row; empty clusters are ignored.

    Returns
    -------
    davies_bouldin, calinski_harabasz : float

    Raises
    ------
    ValueError
        Unless there are between 2 and ``n_rows - 1`` non-empty clusters.
    """
    n = labels.shape[0]
    present, group = np.unique(labels, return_inverse=True)
    m = present.size
    if not 2 <= m <= n - 1:
        raise ValueError(
            f"Number of labels is {m}. Valid values are 2 to n_samples - 1 (inclusive)"
        )
    counts = np.bincount(group, minlength=m).astype(np.float64)
    means = np.empty((m, Z.shape[1]), dtype=np.float64)
    for j in range(Z.shape[1]):
        means[:, j] = np.bincount(group, weights=Z[:, j], minlength=m) / counts
    offset = Z - means[group]
    squared = np.einsum("ij,ij->i", offset, offset)
    # Davies-Bouldin: mean distance to the cluster mean, against the
    # distances between cluster means
    spread = np.bincount(group, weights=np.sqrt(squared), minlength=m) / counts
    gaps = means[:, None, :] - means[None, :, :]
    between = np.sqrt(np.einsum("ijk,ijk->ij", gaps, gaps))
    if np.allclose(spread, 0) or np.allclose(between, 0):
        davies_bouldin = 0.0
    else:
        between[between == 0] = np.inf
        ratio = (spread[:, None] + spread[None, :]) / between
        davies_bouldin = float(np.mean(np.max(ratio, axis=1)))
    # Calinski-Harabasz: between- over within-cluster dispersion
    within = float(squared.sum())
    grand = Z.mean(axis=0)
    dispersion = float(np.sum(counts * np.sum((means - grand) ** 2, axis=1)))
    calinski_harabasz = (
        1.0 if within == 0 else dispersion * (n - m) / (within * (m - 1.0))
    )
    return davies_bouldin, float(calinski_harabasz)


def segment_jaccard(
    reference: np.ndarray, other: np.ndarray, n_reference: int
) -> np.ndarray:
    """Best Jaccard similarity of each reference segment with ``other``.

    Parameters
    ----------
    reference, other : ndarray of int
        Labels of the same points (``-1`` = outlier, ignored as a segment).
    n_reference : int
        Number of reference segments.

    Returns
    -------
    ndarray of shape (n_reference,)
        ``max_s |A_r & B_s| / |A_r | B_s|`` per reference segment ``r``; NaN
        where ``r`` has no point.
    """
    ref_in = reference >= 0
    n_other = int(other.max(initial=-1)) + 1
    n_r = np.bincount(reference[ref_in], minlength=n_reference).astype(np.float64)
    result = np.full(n_reference, np.nan)
    present = n_r > 0
    if n_other == 0:
        result[present] = 0.0
        return result
    n_s = np.bincount(other[other >= 0], minlength=n_other).astype(np.float64)
    both = ref_in & (other >= 0)
    pair = reference[both] * n_other + other[both]
    inter = np.bincount(pair, minlength=n_reference * n_other).astype(np.float64)
    inter = inter.reshape(n_reference, n_other)
    union = n_r[:, None] + n_s[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = np.where(union > 0, inter / union, 0.0)
    result[present] = jac[present].max(axis=1)
    return result


@dataclass(frozen=True)
class StabilityJob:
    """A candidate to bootstrap.

    Attributes
    ----------
    key : int
        Identifier returned with the result (the candidate id).
    spec : CandidateSpec
        Algorithm and resolved parameters to refit.
    reference_labels : ndarray
        The candidate's deployed labels on the reference sample.
    n_segments : int
        Number of centroids of the candidate.
    """

    key: int
    spec: CandidateSpec
    reference_labels: np.ndarray
    n_segments: int


@dataclass(frozen=True)
class StabilityResult:
    """Bootstrap stability of one candidate.

    Attributes
    ----------
    ari : float
        Mean adjusted Rand index between the candidate's labels and the
        refits' labels on the reference sample.
    jaccard : ndarray of shape (n_segments,)
        Mean over resamples of each segment's best Jaccard similarity.
    ari_values : tuple of float
        The ARI of every resample.
    """

    ari: float
    jaccard: np.ndarray
    ari_values: tuple[float, ...]


class StabilityBootstrap:
    """Bootstrap refits of candidates, one candidate at a time, on demand.

    The resamples (drawn with replacement from the reference sample, of its
    size) and their refit seeds are drawn once, so every candidate sees the
    same resamples whichever candidates are measured and in whatever order:
    the comparison between candidates stays fair, and agglomerative
    candidates share one merge tree per resample. A refit that fails or
    finds no cluster counts as an ARI of 0 and Jaccard 0.

    :meth:`measure` may stop a candidate early, once its mean ARI can no
    longer reach a floor whatever the remaining resamples give (each gives at
    most 1): that candidate is ineligible either way, and the mean over the
    resamples done is below the floor too. :meth:`measure` without a floor
    resumes it to all resamples.

    Parameters
    ----------
    Z_reference : ndarray
        Reference sample in the fitting space.
    X_reference_scaled : ndarray
        The same rows in the scaled space (deployment and radii).
    to_scaled : callable
        Fitting space to scaled space map.
    n_resamples : int
        Number of bootstrap resamples ``B``.
    random_state : int
        Seed of the resampling and of the refits.
    """

    def __init__(
        self,
        Z_reference: np.ndarray,
        X_reference_scaled: np.ndarray,
        to_scaled: Callable[[np.ndarray], np.ndarray],
        *,
        n_resamples: int,
        random_state: int,
    ) -> None:
        self.Z_reference = Z_reference
        self.X_reference_scaled = X_reference_scaled
        self.to_scaled = to_scaled
        self.n_resamples = int(n_resamples)
        n_ref = Z_reference.shape[0]
        seeds = np.random.SeedSequence([random_state, 2]).generate_state(
            self.n_resamples + 1
        )
        rng = np.random.default_rng(int(seeds[0]))
        self._indices = [
            rng.integers(0, n_ref, size=n_ref) for _ in range(self.n_resamples)
        ]
        self._seeds = [int(seed) for seed in seeds[1:]]
        self._data: dict[int, FitData] = {}
        self._ari: dict[int, list[float]] = {}
        self._jaccard: dict[int, list[np.ndarray]] = {}

    def _resample(self, b: int) -> FitData:
        """Resample ``b``, kept for the next candidate (a shared merge tree)."""
        if b not in self._data:
            self._data[b] = FitData(self.Z_reference[self._indices[b]])
        return self._data[b]

    def _refit(self, job: StabilityJob, b: int) -> tuple[float, np.ndarray]:
        index = self._indices[b]
        fit = fit_clusters(job.spec, self._resample(b), self._seeds[b])
        if fit.centroids.shape[0] == 0:
            return 0.0, np.zeros(job.n_segments)
        model = build_deployed_model(
            job.spec, fit, self.to_scaled, self.X_reference_scaled[index]
        )
        labels, _ = model.assign(self.X_reference_scaled)
        resampled = np.unique(index)
        return (
            float(adjusted_rand_score(job.reference_labels, labels)),
            segment_jaccard(
                job.reference_labels[resampled], labels[resampled], job.n_segments
            ),
        )

    def measure(self, job: StabilityJob, floor: float | None = None) -> StabilityResult:
        """Refit ``job`` on the resamples not done yet for it.

        Parameters
        ----------
        job : StabilityJob
            The candidate; ``job.key`` identifies it across calls.
        floor : float or None
            Stop as soon as the mean ARI over all resamples can no longer
            reach ``floor``; None refits on every resample.

        Returns
        -------
        StabilityResult
            Over the resamples done so far (``len(ari_values)`` of them).
        """
        aris = self._ari.setdefault(job.key, [])
        jaccards = self._jaccard.setdefault(job.key, [])

        def can_reach_floor() -> bool:
            return floor is None or sum(1.0 - a for a in aris) <= self.n_resamples * (
                1.0 - floor
            )

        # resamples are refitted concurrency.FIT_WORKERS at a time and
        # taken in order while the floor can still be reached: the same
        # resamples count as if they were refitted one at a time (a refit
        # past the stop is left out)
        while len(aris) < self.n_resamples and can_reach_floor():
            done = len(aris)
            batch = range(done, min(done + concurrency.FIT_WORKERS, self.n_resamples))
            for ari, jaccard in concurrency.map_in_threads(
                lambda b: self._refit(job, b), batch
            ):
                if not can_reach_floor():
                    break
                aris.append(ari)
                jaccards.append(jaccard)
        return self.result(job.key)

    def result(self, key: int) -> StabilityResult:
        """Stability of candidate ``key`` over the resamples done so far."""
        stacked = np.vstack(self._jaccard[key])
        with np.errstate(invalid="ignore"):
            counts = np.sum(~np.isnan(stacked), axis=0)
            sums = np.nansum(stacked, axis=0)
        mean_jaccard = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        values = tuple(self._ari[key])
        return StabilityResult(
            ari=float(np.mean(values)), jaccard=mean_jaccard, ari_values=values
        )


def bootstrap_stability(
    jobs: Sequence[StabilityJob],
    Z_reference: np.ndarray,
    X_reference_scaled: np.ndarray,
    to_scaled: Callable[[np.ndarray], np.ndarray],
    *,
    n_resamples: int,
    random_state: int,
) -> dict[int, StabilityResult]:
    """Refit every candidate of ``jobs`` on all bootstrap resamples.

    :class:`StabilityBootstrap` for a list of candidates, none stopped
    early; the parameters are the same.

    Returns
    -------
    dict of int to StabilityResult
        Keyed by ``StabilityJob.key``.
    """
    if not jobs or n_resamples <= 0:
        return {}
    runner = StabilityBootstrap(
        Z_reference,
        X_reference_scaled,
        to_scaled,
        n_resamples=n_resamples,
        random_state=random_state,
    )
    return {job.key: runner.measure(job) for job in jobs}


def top_value_shares(raw: np.ndarray) -> list[float]:
    """Per column of ``raw``: the share of rows at its most common value.

    NaN (null) counts as a value of its own; NaN for a table without rows.
    """
    shares: list[float] = []
    for j in range(raw.shape[1]):
        column = np.nan_to_num(raw[:, j], nan=np.inf)
        _, sizes = np.unique(column, return_counts=True)
        shares.append(float(sizes.max() / column.size) if column.size else np.nan)
    return shares


def feature_check(
    raw: np.ndarray,
    scaled: np.ndarray,
    labels: np.ndarray,
    features: Sequence[str],
    top_shares: Sequence[float] | None = None,
) -> list[dict[str, object]]:
    """Per feature: how concentrated it is and how much it separates segments.

    Parameters
    ----------
    raw : ndarray of shape (n_rows, n_features)
        Raw values (NaN meaning null) of ``features``.
    scaled : ndarray of shape (n_rows, n_features)
        The same features in the scaled space.
    labels : ndarray of shape (n_rows,)
        Deployed labels; outliers (``-1``) are left out of the separation.
    features : sequence of str
        Column names.
    top_shares : sequence of float or None
        :func:`top_value_shares` of ``raw``, when already computed (they
        do not depend on the labels); computed here when None.

    Returns
    -------
    list of dict
        One dict per feature: ``feature``, ``top_value_share`` (share of
        customers at the most common raw value, nulls counted as a value),
        ``separation_share`` (its between-segment sum of squares over the
        sum across features) and ``r_squared`` (its between-segment over
        its total sum of squares).
    """
    if top_shares is None:
        top_shares = top_value_shares(raw)
    inside = labels >= 0
    Xi, li = scaled[inside], labels[inside]
    k = int(li.max(initial=-1)) + 1
    counts = np.bincount(li, minlength=k).astype(np.float64)
    grand = Xi.mean(axis=0) if Xi.size else np.zeros(scaled.shape[1])
    sums = np.zeros((k, scaled.shape[1]))
    for j in range(scaled.shape[1]):
        sums[:, j] = np.bincount(li, weights=Xi[:, j], minlength=k)
    present = counts > 0
    means = sums[present] / counts[present, None]
    between = np.sum(counts[present, None] * (means - grand) ** 2, axis=0)
    total = ((Xi - grand) ** 2).sum(axis=0)
    between_all = float(between.sum())
    result: list[dict[str, object]] = []
    for j, name in enumerate(features):
        result.append(
            {
                "feature": str(name),
                "top_value_share": round(float(top_shares[j]), 4),
                "separation_share": round(float(between[j] / between_all), 4)
                if between_all > 0
                else None,
                "r_squared": round(float(between[j] / total[j]), 4)
                if total[j] > 0
                else None,
            }
        )
    return result


def attach_feature_checks(
    candidates: Sequence[object],
    raw: np.ndarray,
    scaled: np.ndarray,
    features: Sequence[str],
    labels: Mapping[int, np.ndarray] | None = None,
    top_shares: Sequence[float] | None = None,
) -> None:
    """Set ``feature_check`` on every candidate that has a deployed model.

    ``raw`` and ``scaled`` hold the features the model uses (``features``),
    for the customers evaluated. ``labels`` maps a candidate id to its
    deployed labels of these customers, when the caller has them (the fit
    does); the other candidates' deployed models label the customers here.
    ``top_shares`` are :func:`top_value_shares` of all customers when
    ``raw`` holds a sample of them; they do not depend on the labels and are
    computed once.
    """
    if top_shares is None:
        top_shares = top_value_shares(raw)
    known = labels or {}
    for candidate in candidates:
        deployed = getattr(candidate, "deployed", None)
        if deployed is None:
            continue
        assigned = known.get(getattr(candidate, "candidate_id", None))
        if assigned is None:
            assigned, _ = deployed.assign(scaled)
        candidate.feature_check = feature_check(
            raw, scaled, assigned, features, top_shares
        )
