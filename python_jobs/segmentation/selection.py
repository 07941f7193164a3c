"""Choosing the segmentation among the candidates, and naming its segments.

The rule, with the values of the settings filled in, is available as
:func:`describe_selection_rule` (and :data:`SELECTION_RULE` for the default
settings); it is stored with every model in the registry.

Selection rule
--------------
1. A candidate is *eligible* when

   * its fit succeeded (converged, found clusters);
   * ``k_min <= n_segments <= k_max`` (outlier segment 0 not counted);
   * every segment holds at least ``min_segment_share`` of all customers;
   * its selection metric is defined;
   * with bootstrap on (``bootstrap_samples > 0``), its mean bootstrap ARI is
     at least ``stability_floor``. Bootstrap is only run for candidates that
     pass the cheaper checks above, and only for those whose stability can
     change the outcome (:func:`next_stability_needed`): a candidate ranked
     below a stable one at its k, or whose best possible score can be
     neither the best over all k nor chosen before the chosen k, keeps
     ``stability_ari`` null ("stability not measured"). The chosen model
     is the one a bootstrap of every candidate would choose.

2. *One candidate per k*: the eligible candidate with the best
   ``selection_metric`` (highest silhouette or Calinski-Harabasz, lowest
   Davies-Bouldin) at that number of segments, except that plain k-means,
   the baseline, keeps its place unless the other algorithm beats it on the
   metric *and* is at least as stable or beats it by more than
   ``k_tolerance``. K-means is always in the grid, so
   the chosen model never loses to plain k-means on the same features.

3. *An honest k*: the smallest k whose score is within ``k_tolerance``
   (relative) of the best score over all k. More segments must earn their
   place by a clearly better score: a split along a near-binary feature
   gains a few hundredths of silhouette, not a tenth.

4. Every candidate's ``selection_reason`` says why it was chosen or not
   (not eligible, beaten at its k, a larger k within the tolerance, or a
   score outside it).

5. If no candidate is eligible, the best metric among candidates with at
   least two segments is chosen, the model is flagged
   ``selection_fallback`` and the reason is logged as a warning and kept in
   ``selection_note``.

Segment ids
-----------
Segments are numbered ``1..k`` by the centroid's ``monetary`` value in
original units, largest first (by size, largest first, when ``monetary`` is
not used); ties fall back on size, then on the fit order. With a previous
model, :func:`match_segment_ids` keeps the previous id of every matched
segment instead.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from .candidate_record import Candidate
from .config import SegmentationConfig

__all__ = [
    "BASELINE_ALGORITHM",
    "NOT_MEASURED",
    "SELECTION_RULE",
    "Candidate",
    "SelectionOutcome",
    "cheap_rejections",
    "describe_selection_rule",
    "match_segment_ids",
    "metric_sort_value",
    "next_stability_needed",
    "order_segments",
    "select_candidate",
]

logger = logging.getLogger(__name__)

_METRIC_WORDS = {
    "silhouette": "highest silhouette score",
    "davies_bouldin": "lowest Davies-Bouldin index",
    "calinski_harabasz": "highest Calinski-Harabasz score",
}
_HIGHER_IS_BETTER = {
    "silhouette": True,
    "davies_bouldin": False,
    "calinski_harabasz": True,
}


def describe_selection_rule(config: SegmentationConfig) -> str:
    """Human-readable selection rule with the settings of ``config``.

    Parameters
    ----------
    config : SegmentationConfig

    Returns
    -------
    str
    """
    metric = _METRIC_WORDS[config.selection_metric]
    if config.bootstrap_samples > 0:
        stability = (
            f"; mean adjusted Rand index over {config.bootstrap_samples} "
            f"bootstrap refits >= {config.stability_floor:g} (stability_floor)"
        )
    else:
        stability = "; stability not checked (bootstrap_samples = 0)"
    return (
        "Each candidate is deployed as a nearest-centroid model (density "
        "algorithms send customers beyond the 95th-percentile radius of their "
        "nearest cluster to outlier segment 0) and judged on those labels. "
        f"Eligible: fit succeeded; {config.k_min} <= segments <= {config.k_max} "
        "(k_min, k_max; segment 0 not counted); every segment holds >= "
        f"{config.min_segment_share:.1%} of customers (min_segment_share)"
        f"{stability}. Per k: the eligible candidate with the {metric} "
        f"(selection_metric = {config.selection_metric}), but plain k-means "
        "(the baseline, always a candidate) keeps its place unless beaten on "
        "the metric by an at least as stable candidate or by more than "
        "k_tolerance. Chosen: the smallest "
        f"k whose score is within {config.k_tolerance:.0%} of the best score "
        "over all k (k_tolerance). If none is eligible: the "
        f"{metric} among candidates with at least 2 segments, flagged "
        "selection_fallback = true."
    )


#: The selection rule with the default settings.
SELECTION_RULE: str = describe_selection_rule(SegmentationConfig())


def metric_sort_value(candidate: Candidate, metric: str) -> float:
    """Sort key of the metric: smaller is better, NaN sorts last."""
    value = candidate.metric(metric)
    if not math.isfinite(value):
        return math.inf
    return -value if _HIGHER_IS_BETTER[metric] else value


def _rank_key(candidate: Candidate, metric: str) -> tuple[float, int, str, int]:
    return (
        metric_sort_value(candidate, metric),
        candidate.k,
        candidate.algorithm,
        candidate.candidate_id,
    )


def _below(value: float, limit: float, *, percent: bool) -> str:
    """``"value < limit"`` with enough decimals that the two differ."""
    left = right = ""
    for decimals in range(1 if percent else 2, 7):
        spec = f".{decimals}{'%' if percent else 'f'}"
        left, right = format(value, spec), format(limit, spec)
        if left != right:
            break
    return f"{left} < {right}"


def cheap_rejections(candidate: Candidate, config: SegmentationConfig) -> list[str]:
    """Reasons, other than stability, why ``candidate`` is not eligible."""
    reasons: list[str] = []
    if candidate.problem:
        reasons.append(candidate.problem)
    if candidate.k < config.k_min:
        reasons.append(f"{candidate.k} segments < k_min={config.k_min}")
    elif candidate.k > config.k_max:
        reasons.append(f"{candidate.k} segments > k_max={config.k_max}")
    share = candidate.smallest_segment_share
    if candidate.k > 0 and math.isfinite(share) and share < config.min_segment_share:
        limit = config.min_segment_share
        reasons.append("smallest segment " + _below(share, limit, percent=True))
    if candidate.k > 0 and not math.isfinite(candidate.metric(config.selection_metric)):
        reasons.append(f"{config.selection_metric} undefined")
    return reasons


@dataclass(frozen=True)
class SelectionOutcome:
    """Result of applying the selection rule.

    Attributes
    ----------
    selected : Candidate or None
        None only when no candidate has two or more segments.
    fallback : bool
        True when no candidate was eligible.
    note : str or None
        Explanation of a fallback.
    """

    selected: Candidate | None
    fallback: bool
    note: str | None


#: Rejection reason of a candidate whose stability was not measured: the
#: bootstrap skips candidates whose stability cannot change the selection
#: (:func:`next_stability_needed`).
NOT_MEASURED = "stability not measured (it could not change the selection)"

#: The algorithm whose candidates are the baseline every choice must beat.
BASELINE_ALGORITHM = "kmeans"


def _stability(candidate: Candidate) -> float:
    ari = candidate.stability_ari
    return -math.inf if ari is None or not math.isfinite(ari) else float(ari)


def _best_at_each_k(
    eligible: Sequence[Candidate], metric: str, tolerance: float
) -> dict[int, Candidate]:
    """The eligible candidate kept for each k, baseline k-means preferred.

    Sets ``selection_reason`` on the candidates beaten at their k.
    """
    kept: dict[int, Candidate] = {}
    for k in sorted({c.k for c in eligible}):
        group = sorted(
            (c for c in eligible if c.k == k), key=lambda c: _rank_key(c, metric)
        )
        top = group[0]
        baseline = next((c for c in group if c.algorithm == BASELINE_ALGORITHM), None)
        top = _kept_at_k(top, baseline, metric, tolerance)
        kept[k] = top
        for other in group:
            if other is top:
                continue
            why = (
                "the k-means baseline is more stable and within the tolerance"
                if top is baseline and other is group[0]
                else f"its {metric} is not better"
            )
            other.selection_reason = (
                f"beaten at k={k} by {top.algorithm} (candidate "
                f"{top.candidate_id}): {why}"
            )
    return kept


def _baseline_may_keep_its_place(
    top: Candidate, baseline: Candidate | None, metric: str, tolerance: float
) -> bool:
    """True when ``baseline`` (k-means at ``top``'s k) is not clearly beaten."""
    return (
        baseline is not None
        and baseline is not top
        and _within_tolerance(
            baseline.metric(metric), top.metric(metric), metric, tolerance
        )
    )


def _kept_at_k(
    top: Candidate, baseline: Candidate | None, metric: str, tolerance: float
) -> Candidate:
    """The best eligible ``top``, or the eligible k-means ``baseline`` at the
    same k when ``top`` is less stable and not better by more than the
    tolerance."""
    if _baseline_may_keep_its_place(top, baseline, metric, tolerance):
        assert baseline is not None
        if _stability(top) < _stability(baseline):
            return baseline
    return top


def next_stability_needed(
    candidates: Sequence[Candidate], config: SegmentationConfig
) -> Candidate | None:
    """The candidate whose bootstrap stability the selection needs next.

    Stability matters only through eligibility (``stability_ari >=
    stability_floor``) and, at one k, through the comparison of an eligible
    candidate with the eligible k-means baseline. Candidates whose
    ``stability_ari`` is None are not measured yet. At each k the candidates
    passing :func:`cheap_rejections` are taken in the order of the metric:
    the first one not known to be unstable is measured next, then the k-means
    baseline if it may keep its place. The selection is decided once no k
    left open (some stability unknown) could hold a better score than the
    best decided k, nor a score within ``k_tolerance`` of it at a smaller k
    than the one :func:`select_candidate` would choose; the candidates not
    measured then cannot change the chosen model, whatever their stability.

    Parameters
    ----------
    candidates : sequence of Candidate
        Evaluated candidates; ``stability_ari`` set on those measured.
    config : SegmentationConfig

    Returns
    -------
    Candidate or None
        None when the selection no longer depends on an unmeasured
        stability (always None with ``bootstrap_samples = 0``).
    """
    if config.bootstrap_samples <= 0:
        return None
    metric, tolerance, floor = (
        config.selection_metric,
        config.k_tolerance,
        config.stability_floor,
    )

    def rank(candidate: Candidate) -> tuple[float, int, str, int]:
        return _rank_key(candidate, metric)

    groups: dict[int, list[Candidate]] = {}
    for candidate in sorted(
        (c for c in candidates if not cheap_rejections(c, config)), key=rank
    ):
        ari = candidate.stability_ari
        if ari is None or (math.isfinite(ari) and ari >= floor):
            groups.setdefault(candidate.k, []).append(candidate)
    kept: dict[int, Candidate] = {}
    # open k: (the candidate to measure next, the best score the k may keep)
    open_ks: dict[int, tuple[Candidate, Candidate]] = {}
    for k, group in groups.items():
        top = group[0]
        if top.stability_ari is None:
            open_ks[k] = (top, top)
            continue
        baseline = next((c for c in group if c.algorithm == BASELINE_ALGORITHM), None)
        if baseline is not None and baseline.stability_ari is None:
            if _baseline_may_keep_its_place(top, baseline, metric, tolerance):
                open_ks[k] = (baseline, top)
                continue
            baseline = None
        kept[k] = _kept_at_k(top, baseline, metric, tolerance)
    if not open_ks:
        return None
    by_bound = sorted(open_ks.values(), key=lambda pair: rank(pair[1]))
    if not kept:
        return by_bound[0][0]
    best = min(kept.values(), key=rank)
    if rank(by_bound[0][1]) < rank(best):
        return by_bound[0][0]
    best_score = best.metric(metric)
    chosen_k = min(
        k
        for k, c in kept.items()
        if _within_tolerance(c.metric(metric), best_score, metric, tolerance)
    )
    for k in sorted(open_ks):
        following, bound = open_ks[k]
        if k < chosen_k and _within_tolerance(
            bound.metric(metric), best_score, metric, tolerance
        ):
            return following
    return None


def _within_tolerance(score: float, best: float, metric: str, tolerance: float) -> bool:
    margin = tolerance * abs(best)
    if _HIGHER_IS_BETTER[metric]:
        return score >= best - margin
    return score <= best + margin


def _choose_honest_k(
    eligible: Sequence[Candidate], config: SegmentationConfig
) -> Candidate:
    """Smallest k within ``k_tolerance`` of the best score; reasons on every k."""
    metric, tolerance = config.selection_metric, config.k_tolerance
    kept = _best_at_each_k(eligible, metric, tolerance)
    top = min(kept.values(), key=lambda c: _rank_key(c, metric))
    best = top.metric(metric)
    near = [
        k
        for k, c in kept.items()
        if _within_tolerance(c.metric(metric), best, metric, tolerance)
    ]
    chosen = kept[min(near)]
    for k, candidate in kept.items():
        score = f"{metric} {candidate.metric(metric):.3f}"
        if candidate is chosen:
            candidate.selection_reason = (
                f"chosen: {score}, the smallest k within {tolerance:.0%} of the "
                f"best {metric} ({best:.3f} at k={top.k})"
            )
        elif k in near:
            candidate.selection_reason = (
                f"{score} within {tolerance:.0%} of the best, but k={k} > "
                f"k={chosen.k} already is"
            )
        else:
            candidate.selection_reason = (
                f"{score} not within {tolerance:.0%} of the best {metric} "
                f"({best:.3f} at k={top.k})"
            )
    return chosen


def select_candidate(
    candidates: Sequence[Candidate], config: SegmentationConfig
) -> SelectionOutcome:
    """Apply the selection rule (see the module docstring).

    Candidates must already carry their metrics and, when bootstrap is on,
    ``stability_ari`` for those passing :func:`cheap_rejections`. Sets
    ``is_eligible``, ``rejection_reason`` and ``is_selected`` on each.

    Parameters
    ----------
    candidates : sequence of Candidate
    config : SegmentationConfig

    Returns
    -------
    SelectionOutcome
    """
    metric = config.selection_metric
    for candidate in candidates:
        reasons = cheap_rejections(candidate, config)
        if config.bootstrap_samples > 0 and not reasons:
            ari = candidate.stability_ari
            if ari is None or not math.isfinite(ari):
                reasons.append(NOT_MEASURED)
            elif ari < config.stability_floor:
                floor = config.stability_floor
                reason = "stability ARI " + _below(ari, floor, percent=False)
                done = candidate.stability_resamples
                if done is not None and done < config.bootstrap_samples:
                    reason += (
                        f" (mean of the first {done} of {config.bootstrap_samples}"
                        " resamples, stopped: the floor was out of reach)"
                    )
                reasons.append(reason)
        candidate.is_eligible = not reasons
        candidate.rejection_reason = "; ".join(reasons) if reasons else None
        candidate.selection_reason = (
            f"not eligible: {candidate.rejection_reason}" if reasons else None
        )
        candidate.is_selected = False
    eligible = [c for c in candidates if c.is_eligible]
    if eligible:
        best = _choose_honest_k(eligible, config)
        best.is_selected = True
        return SelectionOutcome(best, False, None)
    pool = [
        c
        for c in candidates
        if c.k >= 2 and c.deployed is not None and math.isfinite(c.metric(metric))
    ]
    if not pool:
        logger.warning("no candidate has two or more usable segments")
        return SelectionOutcome(None, True, None)
    best = min(pool, key=lambda c: _rank_key(c, metric))
    best.is_selected = True
    best.selection_reason = f"fallback: no candidate eligible; {best.selection_reason}"
    note = (
        f"No candidate met the selection rule ({len(candidates)} tried); fell "
        f"back to the best {metric} among {len(pool)} candidates with at least "
        f"2 segments: {best.algorithm} {best.parameters_json} with {best.k} "
        f"segments, rejected because: {best.rejection_reason}."
    )
    logger.warning(note)
    return SelectionOutcome(best, True, note)


def order_segments(
    centroids_original: np.ndarray,
    sizes: np.ndarray,
    features_used: Sequence[str],
) -> list[int]:
    """Order of centroid indices that gives segment ids ``1..k``.

    Parameters
    ----------
    centroids_original : ndarray of shape (k, n_features)
        Centroids in original units.
    sizes : ndarray of shape (k,)
        Customers per centroid.
    features_used : sequence of str
        Column names of ``centroids_original``.

    Returns
    -------
    list of int
        Centroid indices; the first gets segment id 1. Sorted by monetary
        value descending when ``monetary`` is used, else by size descending;
        ties broken by size, then index.
    """
    k = centroids_original.shape[0]
    sizes = np.asarray(sizes)
    if "monetary" in features_used:
        column = list(features_used).index("monetary")
        monetary = centroids_original[:, column]
        return sorted(range(k), key=lambda i: (-monetary[i], -int(sizes[i]), i))
    return sorted(range(k), key=lambda i: (-int(sizes[i]), i))


def match_segment_ids(
    previous_centroids: Mapping[int, Sequence[float]],
    new_centroids: Sequence[Sequence[float]] | np.ndarray,
) -> dict[int, int]:
    """Give new centroids the ids of the closest previous centroids.

    The one-to-one assignment minimising the total Euclidean distance
    (:func:`scipy.optimize.linear_sum_assignment`) is used; new centroids
    left unmatched (when there are more new than previous segments) get
    ids after the largest previous id, in their row order.

    Parameters
    ----------
    previous_centroids : mapping of int to sequence of float
        Previous segment id to its centroid, over the same features (and in
        the same space) as ``new_centroids``.
    new_centroids : array-like of shape (k_new, n_features)
        New centroids, one per row.

    Returns
    -------
    dict of int to int
        Row index of each new centroid to its segment id.
    """
    new = np.asarray(new_centroids, dtype=np.float64)
    if new.ndim != 2:
        raise ValueError("new_centroids must be a 2-D array (one centroid per row)")
    previous_ids = sorted(int(i) for i in previous_centroids)
    mapping: dict[int, int] = {}
    if previous_ids:
        previous = np.asarray(
            [np.asarray(previous_centroids[i], dtype=np.float64) for i in previous_ids]
        )
        if previous.shape[1] != new.shape[1]:
            raise ValueError(
                f"previous centroids have {previous.shape[1]} features, new "
                f"centroids {new.shape[1]}"
            )
        diff = new[:, None, :] - previous[None, :, :]
        cost = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        rows, cols = linear_sum_assignment(cost)
        mapping = {
            int(r): previous_ids[int(c)] for r, c in zip(rows, cols, strict=True)
        }
    next_id = (max(previous_ids) if previous_ids else 0) + 1
    for row in range(new.shape[0]):
        if row not in mapping:
            mapping[row] = next_id
            next_id += 1
    return dict(sorted(mapping.items()))
