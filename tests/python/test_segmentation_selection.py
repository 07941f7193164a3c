"""Selection rule, segment id matching and the building blocks they use."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest
from segmentation import (
    SELECTION_RULE,
    Candidate,
    DeployedModel,
    SegmentationConfig,
    describe_selection_rule,
    match_segment_ids,
)
from segmentation.algorithms import (
    RADIUS_PERCENTILE,
    CandidateSpec,
    build_deployed_model,
    candidate_specs,
)
from segmentation.evaluation import (
    SilhouetteSample,
    StabilityBootstrap,
    StabilityJob,
    bootstrap_stability,
    cluster_scores,
    feature_check,
    segment_jaccard,
    silhouette_from_distances,
)
from segmentation.fitting import FitData, cut_ward_tree, fit_clusters
from segmentation.selection import (
    NOT_MEASURED,
    cheap_rejections,
    next_stability_needed,
    order_segments,
    select_candidate,
)
from sklearn.cluster import AgglomerativeClustering, ward_tree
from sklearn.datasets import make_blobs
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)


def _candidate(
    candidate_id: int,
    algorithm: str = "kmeans",
    *,
    k: int = 4,
    silhouette: float = 0.5,
    smallest: float = 0.1,
    ari: float | None = 0.9,
) -> Candidate:
    return Candidate(
        candidate_id=candidate_id,
        algorithm=algorithm,
        parameters={"n_clusters": k},
        k=k,
        silhouette=silhouette,
        davies_bouldin=1.0 / max(silhouette, 1e-9),
        calinski_harabasz=100.0 * silhouette,
        inertia=1.0,
        smallest_segment_share=smallest,
        noise_share=0.0,
        stability_ari=ari,
        deployed=DeployedModel(np.zeros((k, 2))),
    )


def test_rule_text_carries_the_settings() -> None:
    config = SegmentationConfig.from_dict(
        {"k_min": 4, "k_max": 6, "min_segment_share": 0.05, "stability_floor": 0.7}
    )
    text = describe_selection_rule(config)
    assert "4 <= segments <= 6" in text
    assert "5.0%" in text
    assert ">= 0.7" in text
    assert "highest silhouette" in text
    assert "4 <= segments <= 8" in SELECTION_RULE
    assert "within 2% of the best score" in SELECTION_RULE
    no_boot = describe_selection_rule(SegmentationConfig(bootstrap_samples=0))
    assert "stability not checked" in no_boot


def test_small_segments_are_rejected_even_with_the_best_metric() -> None:
    config = SegmentationConfig.from_dict({"min_segment_share": 0.05})
    best_but_tiny = _candidate(1, silhouette=0.9, smallest=0.012)
    good = _candidate(2, silhouette=0.6, smallest=0.08)
    outcome = select_candidate([best_but_tiny, good], config)
    assert outcome.selected is good
    assert not outcome.fallback
    assert best_but_tiny.rejection_reason == "smallest segment 1.2% < 5.0%"
    assert not best_but_tiny.is_eligible
    assert good.is_eligible
    assert good.is_selected
    assert not best_but_tiny.is_selected


def test_rejection_reasons_show_enough_decimals() -> None:
    config = SegmentationConfig()
    close = _candidate(1, smallest=0.0198)
    select_candidate([close], config)
    assert close.rejection_reason == "smallest segment 1.98% < 2.00%"
    unstable = _candidate(2, ari=0.7996)
    select_candidate([unstable], config)
    assert unstable.rejection_reason == "stability ARI 0.7996 < 0.8000"


def test_unstable_and_out_of_range_candidates_are_rejected() -> None:
    config = SegmentationConfig()
    unstable = _candidate(1, silhouette=0.9, ari=0.4)
    too_few = _candidate(2, k=2, silhouette=0.95)
    too_many = _candidate(3, k=12, silhouette=0.95)
    fine = _candidate(4, silhouette=0.3)
    outcome = select_candidate([unstable, too_few, too_many, fine], config)
    assert outcome.selected is fine
    assert unstable.rejection_reason == "stability ARI 0.40 < 0.80"
    assert unstable.selection_reason == "not eligible: stability ARI 0.40 < 0.80"
    assert too_few.rejection_reason == "2 segments < k_min=4"
    assert too_many.rejection_reason == "12 segments > k_max=8"


def test_stability_is_ignored_when_bootstrap_is_off() -> None:
    config = SegmentationConfig(bootstrap_samples=0)
    candidate = _candidate(1, ari=None)
    assert select_candidate([candidate], config).selected is candidate


@pytest.mark.parametrize(
    ("metric", "winner"),
    [("silhouette", 2), ("calinski_harabasz", 2), ("davies_bouldin", 2)],
)
def test_metric_direction(metric: str, winner: int) -> None:
    config = SegmentationConfig(selection_metric=metric)
    candidates = [_candidate(1, silhouette=0.3), _candidate(2, silhouette=0.6)]
    assert select_candidate(candidates, config).selected.candidate_id == winner


def test_ties_go_to_fewer_segments_then_algorithm_name() -> None:
    config = SegmentationConfig()
    five = _candidate(1, "agglomerative", k=5, silhouette=0.5)
    four_kmeans = _candidate(2, "kmeans", k=4, silhouette=0.5)
    four_agglo = _candidate(3, "agglomerative", k=4, silhouette=0.5)
    outcome = select_candidate([five, four_kmeans, four_agglo], config)
    assert outcome.selected is four_agglo


def test_the_smallest_k_within_the_tolerance_wins() -> None:
    config = SegmentationConfig(k_tolerance=0.02)
    four = _candidate(1, k=4, silhouette=0.500)
    five = _candidate(2, k=5, silhouette=0.505)
    six = _candidate(3, k=6, silhouette=0.510)
    seven = _candidate(4, k=7, silhouette=0.40)
    assert select_candidate([four, five, six, seven], config).selected is four
    assert four.selection_reason.startswith("chosen: silhouette 0.500")
    assert "(0.510 at k=6)" in four.selection_reason
    assert six.selection_reason == (
        "silhouette 0.510 within 2% of the best, but k=6 > k=4 already is"
    )
    assert seven.selection_reason.startswith("silhouette 0.400 not within 2%")


def test_a_clearly_better_larger_k_wins() -> None:
    config = SegmentationConfig(k_tolerance=0.02)
    four = _candidate(1, k=4, silhouette=0.45)
    six = _candidate(2, k=6, silhouette=0.60)
    assert select_candidate([four, six], config).selected is six


def test_kmeans_keeps_its_k_unless_beaten_by_an_as_stable_candidate() -> None:
    config = SegmentationConfig()
    baseline = _candidate(1, "kmeans", k=4, silhouette=0.50, ari=0.95)
    shaky = _candidate(2, "gaussian_mixture", k=4, silhouette=0.505, ari=0.85)
    assert select_candidate([baseline, shaky], config).selected is baseline
    assert shaky.selection_reason == (
        "beaten at k=4 by kmeans (candidate 1): the k-means baseline is more "
        "stable and within the tolerance"
    )
    clearly = _candidate(4, "agglomerative", k=4, silhouette=0.60, ari=0.85)
    assert select_candidate([baseline, clearly], config).selected is clearly
    steady = _candidate(3, "agglomerative", k=4, silhouette=0.505, ari=0.97)
    assert select_candidate([baseline, shaky, steady], config).selected is steady
    assert baseline.selection_reason.startswith("beaten at k=4 by agglomerative")


def test_kmeans_is_always_a_candidate() -> None:
    config = SegmentationConfig(algorithms=["agglomerative"], k_min=4, k_max=5)
    specs = candidate_specs(config, n_rows=1_000_000, n_dims=4)
    kmeans = [s for s in specs if s.algorithm == "kmeans"]
    assert [s.params["n_clusters"] for s in kmeans] == [4, 5]
    # fitted on the sample: never the mini-batch variant for 5,000 rows
    assert not any(s.params["minibatch"] for s in kmeans)


def test_feature_check_reports_concentration_and_separation() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 200)
    signal = labels * 4.0 + rng.normal(size=400)
    binary = (rng.random(400) < 0.1).astype(float)
    raw = np.column_stack([signal, binary])
    checks = feature_check(raw, raw, labels, ["signal", "binary"])
    by_name = {c["feature"]: c for c in checks}
    assert by_name["binary"]["top_value_share"] > 0.8
    assert by_name["signal"]["top_value_share"] == pytest.approx(1 / 400)
    assert by_name["signal"]["separation_share"] > 0.95
    assert by_name["signal"]["r_squared"] > 0.7
    assert by_name["binary"]["r_squared"] < 0.05


def test_fallback_when_nothing_is_eligible(caplog: pytest.LogCaptureFixture) -> None:
    config = SegmentationConfig()
    single = _candidate(1, k=1, silhouette=float("nan"))
    two = _candidate(2, k=2, silhouette=0.7)
    unstable = _candidate(3, silhouette=0.4, ari=0.1)
    with caplog.at_level(logging.WARNING, logger="segmentation"):
        outcome = select_candidate([single, two, unstable], config)
    assert outcome.fallback
    assert outcome.selected is two
    assert two.is_selected
    assert not two.is_eligible
    assert "No candidate met the selection rule" in outcome.note
    assert "2 segments < k_min=4" in outcome.note
    assert any("No candidate met" in r.getMessage() for r in caplog.records)


def test_fallback_is_none_without_two_segments() -> None:
    outcome = select_candidate([_candidate(1, k=1)], SegmentationConfig())
    assert outcome.selected is None
    assert outcome.fallback


def test_match_segment_ids_keeps_ids_of_permuted_centroids() -> None:
    rng = np.random.default_rng(0)
    previous = {3: [0.0, 0.0], 5: [4.0, 0.0], 9: [0.0, 4.0]}
    ids = [9, 3, 5]
    new = np.array([previous[i] for i in ids]) + rng.normal(scale=0.1, size=(3, 2))
    assert match_segment_ids(previous, new) == {0: 9, 1: 3, 2: 5}


def test_match_segment_ids_new_and_retired_segments() -> None:
    previous = {1: [0.0, 0.0], 2: [4.0, 0.0], 3: [0.0, 4.0]}
    more = np.array([[4.1, 0.0], [9.0, 9.0], [0.0, 0.1], [0.0, 3.9]])
    assert match_segment_ids(previous, more) == {0: 2, 1: 4, 2: 1, 3: 3}
    fewer = np.array([[0.0, 3.8], [3.9, 0.2]])
    assert match_segment_ids(previous, fewer) == {0: 3, 1: 2}
    assert match_segment_ids({}, fewer) == {0: 1, 1: 2}
    with pytest.raises(ValueError, match="features"):
        match_segment_ids(previous, np.zeros((2, 3)))


def test_segments_are_ordered_by_monetary_then_size() -> None:
    centroids = np.array([[1.0, 10.0], [2.0, 300.0], [3.0, 50.0]])
    sizes = np.array([10, 20, 30])
    assert order_segments(centroids, sizes, ["frequency", "monetary"]) == [1, 2, 0]
    assert order_segments(centroids, sizes, ["frequency", "tenure_days"]) == [2, 1, 0]


def test_ward_cut_matches_sklearn_agglomerative() -> None:
    X, _ = make_blobs(n_samples=300, centers=5, n_features=3, random_state=1)
    children = ward_tree(X)[0]
    for k in (2, 3, 5, 8):
        ours = cut_ward_tree(children, X.shape[0], k)
        theirs = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
        assert np.unique(ours).size == k
        assert adjusted_rand_score(ours, theirs) == 1.0


def test_density_radius_sends_far_points_to_outliers() -> None:
    rng = np.random.default_rng(4)
    blob_a = rng.normal(0.0, 0.3, size=(300, 2))
    blob_b = rng.normal(5.0, 0.3, size=(300, 2))
    X = np.vstack([blob_a, blob_b])
    spec = CandidateSpec("hdbscan", {"min_cluster_share": 0.05})
    fit = fit_clusters(spec, FitData(X), seed=0)
    assert fit.problem is None
    model = build_deployed_model(spec, fit, lambda c: c, X)
    assert model.radii is not None
    assert model.n_clusters == 2
    labels, distance = model.assign(np.array([[0.0, 0.0], [5.0, 5.0], [2.5, 2.5]]))
    assert labels[0] != labels[1]
    assert labels[0] >= 0
    assert labels[2] == -1
    assert distance[2] > model.radii.max()
    # about 5% of the members lie beyond the 95th-percentile radius
    member_labels, _ = model.assign(X)
    assert 0.02 < np.mean(member_labels == -1) < 0.1
    # a member at the percentile stays inside when SQL's rounding puts it a
    # few units in the last place farther; the radius is still the percentile
    for c in range(model.n_clusters):
        members = X[fit.member_labels == c]
        percentile = np.percentile(
            np.linalg.norm(members - model.centroids[c], axis=1), RADIUS_PERCENTILE
        )
        farther = percentile
        for _ in range(4):
            farther = np.nextafter(farther, np.inf)
        assert farther < model.radii[c] < percentile * (1 + 1e-6)


def test_single_cluster_is_a_problem_not_an_error() -> None:
    X = np.random.default_rng(5).normal(size=(400, 2))
    fit = fit_clusters(
        CandidateSpec("hdbscan", {"min_cluster_share": 0.05}), FitData(X), 0
    )
    assert fit.problem is not None
    assert fit.problem.startswith("found")


def test_segment_jaccard() -> None:
    reference = np.array([0, 0, 0, 1, 1, 1, -1])
    other = np.array([1, 1, 0, 0, 0, 0, 0])
    jac = segment_jaccard(reference, other, 2)
    assert jac[0] == pytest.approx(2 / 3)  # {0,1,2} vs {0,1}
    # {3,4,5} vs {2,3,4,5,6}: the reference outlier 6 still belongs to B
    assert jac[1] == pytest.approx(3 / 5)
    missing = segment_jaccard(np.array([0, 0]), np.array([0, 0]), 2)
    assert missing[0] == 1.0
    assert np.isnan(missing[1])


def _labellings() -> list[np.ndarray]:
    """Labellings of 300 points: outliers, a singleton, empty ids, 2 and 7 groups."""
    rng = np.random.default_rng(5)
    with_outliers = rng.integers(-1, 4, size=300)
    singleton = rng.integers(0, 3, size=300)
    singleton[17] = 9  # alone in its group; ids 3..8 unused
    return [
        with_outliers,
        singleton,
        rng.integers(0, 2, size=300),
        rng.integers(0, 7, size=300),
    ]


def test_silhouette_from_distances_is_sklearns_silhouette() -> None:
    X, _ = make_blobs(n_samples=300, centers=4, n_features=5, random_state=1)
    for labels in _labellings():
        sample = SilhouetteSample.draw(X, sample_size=1000, random_state=0)
        assert sample.score(labels) == pytest.approx(
            silhouette_score(X, labels), rel=1e-12, abs=1e-12
        )
        # a sample smaller than the data draws what silhouette_score draws
        sample = SilhouetteSample.draw(X, sample_size=120, random_state=3)
        assert sample.index.size == 120
        expected = silhouette_score(X, labels, sample_size=120, random_state=3)
        assert sample.score(labels) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    with pytest.raises(ValueError, match="Number of labels is 1"):
        silhouette_from_distances(np.zeros((3, 3)), np.zeros(3, dtype=int))


def test_cluster_scores_are_sklearns_davies_bouldin_and_calinski_harabasz() -> None:
    X, _ = make_blobs(n_samples=300, centers=4, n_features=5, random_state=1)
    for labels in _labellings():
        # the fit passes the rows outside the outlier group
        inside = labels >= 0
        Xi, li = X[inside], labels[inside]
        davies_bouldin, calinski_harabasz = cluster_scores(Xi, li)
        assert davies_bouldin == pytest.approx(davies_bouldin_score(Xi, li), rel=1e-9)
        assert calinski_harabasz == pytest.approx(
            calinski_harabasz_score(Xi, li), rel=1e-9
        )
    with pytest.raises(ValueError, match="Number of labels is 1"):
        cluster_scores(np.zeros((3, 2)), np.zeros(3, dtype=int))


def _random_grid(rng: np.random.Generator) -> list[Candidate]:
    """A grid like the real one: k-means, Ward and a mixture at k = 4..8 and
    a density candidate, with random scores, stabilities and small segments;
    scores are close and rounded, so that ties and scores within the
    tolerance (where the k-means baseline may keep its place) are common."""
    candidates: list[Candidate] = []
    for algorithm in ("kmeans", "agglomerative", "gaussian_mixture"):
        for k in range(4, 9):
            candidates.append(
                _candidate(
                    len(candidates) + 1,
                    algorithm,
                    k=k,
                    silhouette=float(np.round(rng.uniform(0.3, 0.4) / 5, 3) * 5),
                    smallest=0.01 if rng.random() < 0.1 else 0.1,
                    ari=float(np.round(rng.uniform(0.5, 1.0), 2)),
                )
            )
    candidates.append(
        _candidate(len(candidates) + 1, "hdbscan", k=int(rng.integers(2, 7)))
    )
    return candidates


@pytest.mark.parametrize(
    "metric", ["silhouette", "davies_bouldin", "calinski_harabasz"]
)
def test_bootstrap_on_demand_selects_what_a_full_bootstrap_selects(
    metric: str,
) -> None:
    """next_stability_needed asks for stabilities one at a time until the
    choice no longer depends on the others: on 200 random grids the chosen
    candidate (and fallback) equal those with every stability known, and
    every candidate measured that way really was asked for."""
    config = SegmentationConfig(selection_metric=metric)
    rng = np.random.default_rng(13)
    asked_total = known_total = 0
    for _ in range(200):
        full = _random_grid(rng)
        expected = select_candidate(full, config)
        lazy = [dataclasses.replace(c, stability_ari=None) for c in full]
        truth = {c.candidate_id: c.stability_ari for c in full}
        asked: list[int] = []
        while (needed := next_stability_needed(lazy, config)) is not None:
            assert needed.candidate_id not in asked, "asked twice"
            asked.append(needed.candidate_id)
            needed.stability_ari = truth[needed.candidate_id]
        outcome = select_candidate(lazy, config)
        assert outcome.fallback == expected.fallback
        assert expected.selected is not None and outcome.selected is not None
        assert outcome.selected.candidate_id == expected.selected.candidate_id
        # the reasons of the chosen candidate are the full bootstrap's
        assert outcome.selected.selection_reason == expected.selected.selection_reason
        asked_total += len(asked)
        known_total += sum(1 for c in full if not cheap_rejections(c, config))
    # the point of it: far fewer candidates are bootstrapped
    assert asked_total < 0.8 * known_total


def test_no_stability_is_needed_without_bootstrap() -> None:
    config = SegmentationConfig(bootstrap_samples=0)
    assert next_stability_needed([_candidate(1, ari=None)], config) is None


def test_unmeasured_candidates_say_why() -> None:
    config = SegmentationConfig()
    kept, skipped = _candidate(1, silhouette=0.6), _candidate(2, k=5, ari=None)
    skipped.silhouette = 0.3
    assert next_stability_needed([kept, skipped], config) is None
    select_candidate([kept, skipped], config)
    assert kept.is_selected
    assert skipped.rejection_reason == NOT_MEASURED


def test_bootstrap_stops_once_the_floor_is_out_of_reach() -> None:
    """A candidate whose mean ARI can no longer reach the floor stops early,
    below the floor; resumed without a floor it has every resample, and the
    stable candidate's values are those of a bootstrap of it alone."""
    X, _ = make_blobs(n_samples=400, centers=4, cluster_std=0.6, random_state=3)
    noise = np.random.default_rng(3).uniform(-10, 10, size=(400, 2))
    stable_spec = CandidateSpec(
        "kmeans", {"n_clusters": 4, "init": "k-means++", "n_init": 4}
    )
    # k-means with 7 clusters on uniform noise: cuts move between resamples
    unstable_spec = CandidateSpec(
        "kmeans", {"n_clusters": 7, "init": "k-means++", "n_init": 1}
    )

    def job(key: int, spec: CandidateSpec, Z: np.ndarray) -> StabilityJob:
        fit = fit_clusters(spec, FitData(Z), 0)
        labels, _ = build_deployed_model(spec, fit, lambda v: v, Z).assign(Z)
        return StabilityJob(key, spec, labels, int(fit.centroids.shape[0]))

    runner = StabilityBootstrap(
        noise, noise, lambda v: v, n_resamples=10, random_state=1
    )
    unstable = job(1, unstable_spec, noise)
    stopped = runner.measure(unstable, floor=0.95)
    assert len(stopped.ari_values) < 10
    assert stopped.ari < 0.95
    resumed = runner.measure(unstable)
    assert resumed.ari_values[: len(stopped.ari_values)] == stopped.ari_values
    assert len(resumed.ari_values) == 10 and resumed.ari < 0.95
    blobs = job(2, stable_spec, X)
    alone = bootstrap_stability(
        [blobs], X, X, lambda v: v, n_resamples=10, random_state=1
    )[2]
    shared = StabilityBootstrap(X, X, lambda v: v, n_resamples=10, random_state=1)
    shared.measure(job(3, unstable_spec, X), floor=0.95)
    with_floor = shared.measure(blobs, floor=0.8)
    assert with_floor.ari_values == alone.ari_values
    assert with_floor.ari >= 0.8
