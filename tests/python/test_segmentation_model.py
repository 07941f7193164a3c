"""End-to-end fitting, the registry row and scoring from it."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import warnings
from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import segmentation.candidates as candidates_module
import segmentation.concurrency as concurrency_module
import segmentation.evaluation as evaluation_module
import segmentation.fit_process as fit_process_module
import segmentation.fitting as fitting_module
import threadpoolctl
from segmentation import (
    ConfigError,
    SegmentationConfig,
    SegmentationError,
    SegmentationResult,
    fit_segmentation,
    score,
)
from segmentation.fit_process import FitProcess
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

# Small bootstrap and samples keep the whole file to a few seconds per fit.
FAST = {"bootstrap_samples": 3, "sample_size": 1500}


def _segments_in_table_order(result: SegmentationResult, table: pa.Table) -> np.ndarray:
    labels = result.labels
    return np.array([labels[c] for c in table.column("customer_id").to_pylist()])


@pytest.fixture(scope="module")
def blob_result(segmentation_blobs: tuple[pa.Table, np.ndarray]) -> SegmentationResult:
    table, _ = segmentation_blobs
    return fit_segmentation(
        table,
        SegmentationConfig.from_dict({"bootstrap_samples": 3, "log_transform": "none"}),
        training_cutoff_date=dt.date(2011, 12, 10),
    )


@pytest.fixture(scope="module")
def customer_result(segmentation_customers: pa.Table) -> SegmentationResult:
    return fit_segmentation(segmentation_customers, SegmentationConfig.from_dict(FAST))


# Four tight blobs and 5% uniform noise around them. Plain k-means, the
# baseline that is always a candidate, puts the noise in the blobs' segments
# and keeps a higher silhouette (which counts outliers as a group of their
# own); Davies-Bouldin leaves outliers out, so there a density model that
# sets the noise aside wins. Synthetic blobs are not logged.
NOISY_BLOB_SETTINGS = {
    "bootstrap_samples": 2,
    "log_transform": "none",
    "selection_metric": "davies_bouldin",
}


def _noisy_blobs(
    build: Callable[..., pa.Table],
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    X, truth = make_blobs(
        n_samples=1900,
        centers=4,
        n_features=10,
        cluster_std=0.6,
        center_box=(-10.0, 10.0),
        random_state=3,
    )
    noise = np.random.default_rng(3).uniform(-25.0, 25.0, size=(100, 10))
    is_noise = np.r_[np.zeros(1900, dtype=bool), np.ones(100, dtype=bool)]
    return build(np.vstack([X, noise])), truth, is_noise


# --------------------------------------------------------------------------
# Quality on known structure


def test_blobs_are_recovered(
    blob_result: SegmentationResult, segmentation_blobs: tuple[pa.Table, np.ndarray]
) -> None:
    table, truth = segmentation_blobs
    segments = _segments_in_table_order(blob_result, table)
    row = blob_result.registry_row
    assert row["n_segments"] == 4
    assert not row["selection_fallback"]
    assert adjusted_rand_score(truth, segments) >= 0.9
    inside = segments > 0
    assert adjusted_rand_score(truth[inside], segments[inside]) >= 0.99


def test_every_customer_is_assigned(
    blob_result: SegmentationResult, segmentation_blobs: tuple[pa.Table, np.ndarray]
) -> None:
    table, _ = segmentation_blobs
    assert len(blob_result.labels) == table.num_rows
    assert set(blob_result.labels) == set(table.column("customer_id").to_pylist())
    ids = {s["segment_id"] for s in blob_result.registry_row["segments"]}
    assert set(np.unique(blob_result.segment_ids)) <= ids


def test_kmeans_candidates_cover_the_k_range(blob_result: SegmentationResult) -> None:
    kmeans = [c for c in blob_result.candidates if c.algorithm == "kmeans"]
    assert sorted(c.k for c in kmeans) == list(range(4, 9))
    for candidate in kmeans:
        assert 3 <= candidate.k <= 8
        assert candidate.noise_share == 0.0
        assert candidate.deployed is not None
        assert candidate.deployed.radii is None


def test_hdbscan_noise_lands_in_segment_zero(
    segmentation_table_from_matrix: Callable[..., pa.Table],
) -> None:
    table, truth, is_noise = _noisy_blobs(segmentation_table_from_matrix)
    config = SegmentationConfig.from_dict(
        dict(NOISY_BLOB_SETTINGS, algorithms=["hdbscan"])
    )
    result = fit_segmentation(table, config)
    segments = _segments_in_table_order(result, table)
    row = result.registry_row
    # the k-means baseline competed and lost: the HDBSCAN path is what runs
    assert {c["algorithm"] for c in row["candidates"]} == {"kmeans", "hdbscan"}
    assert row["algorithm"] == "hdbscan"
    assert not row["selection_fallback"]
    assert row["has_outlier_segment"]
    assert np.mean(segments[is_noise] == 0) >= 0.9
    assert np.mean(segments[~is_noise] == 0) <= 0.1
    kept = ~is_noise & (segments > 0)
    assert adjusted_rand_score(truth[kept[~is_noise]], segments[kept]) >= 0.99
    zero = [s for s in row["segments"] if s["segment_id"] == 0]
    assert len(zero) == 1
    assert zero[0]["radius"] is None
    assert zero[0]["size"] == int(np.sum(segments == 0))
    assert all(s["radius"] > 0 for s in row["segments"] if s["segment_id"] > 0)
    assert row["n_segments"] == len(row["segments"]) - 1
    selected = next(c for c in row["candidates"] if c["is_selected"])
    assert selected["noise_share"] > 0
    # scoring from the row reproduces the outliers too
    scored, distance, _, _ = score(table, row)
    np.testing.assert_array_equal(scored, segments)
    radius = {s["segment_id"]: s["radius"] for s in row["segments"]}
    outliers = scored == 0
    assert np.all(
        distance[~outliers] <= np.array([radius[s] for s in scored[~outliers]])
    )


def test_dbscan_candidates_deploy_with_radii(
    segmentation_table_from_matrix: Callable[..., pa.Table],
) -> None:
    table, _, is_noise = _noisy_blobs(segmentation_table_from_matrix)
    config = SegmentationConfig.from_dict(
        dict(NOISY_BLOB_SETTINGS, algorithms=["dbscan"])
    )
    result = fit_segmentation(table, config)
    row = result.registry_row
    # the k-means baseline is always in the grid; three DBSCAN candidates join it
    algorithms = [c["algorithm"] for c in row["candidates"]]
    assert set(algorithms) == {"kmeans", "dbscan"}
    dbscan = [c for c in row["candidates"] if c["algorithm"] == "dbscan"]
    assert len(dbscan) == 3
    for candidate in dbscan:
        params = json.loads(candidate["parameters_json"])
        assert params["eps"] > 0
        assert params["eps_quantile"] in (0.8, 0.9, 0.95)
    for candidate in result.candidates:
        if candidate.algorithm == "dbscan":
            assert candidate.deployed is not None
            radii = candidate.deployed.radii
            assert radii is not None
            assert radii.shape == (candidate.k,)
            assert np.all(radii > 0)
    assert row["algorithm"] == "dbscan"
    assert not row["selection_fallback"]
    assert row["n_segments"] == 4
    assert row["has_outlier_segment"]
    assert all(s["radius"] > 0 for s in row["segments"] if s["segment_id"] > 0)
    segments = _segments_in_table_order(result, table)
    assert np.mean(segments[is_noise] == 0) >= 0.9


def test_fallback_when_no_candidate_is_eligible(
    segmentation_table_from_matrix: Callable[..., pa.Table],
    caplog: pytest.LogCaptureFixture,
) -> None:
    X, _ = make_blobs(
        n_samples=800, centers=2, n_features=10, cluster_std=0.5, random_state=5
    )
    # HDBSCAN finds the 2 blobs, fewer than k_min; the k-means baseline, always
    # a candidate, splits a blob to reach k_min and so leaves a segment under
    # 30% of two blobs of 50% each
    config = SegmentationConfig.from_dict(
        {
            "algorithms": ["hdbscan"],
            "bootstrap_samples": 2,
            "k_min": 3,
            "min_segment_share": 0.3,
        }
    )
    with caplog.at_level("WARNING", logger="segmentation"):
        result = fit_segmentation(segmentation_table_from_matrix(X), config)
    row = result.registry_row
    assert row["selection_fallback"] is True
    assert "No candidate" in row["selection_note"]
    assert row["n_segments"] == 2
    assert not any(c["is_eligible"] for c in row["candidates"])
    assert sum(c["is_selected"] for c in row["candidates"]) == 1
    assert {c["algorithm"] for c in row["candidates"]} == {"kmeans", "hdbscan"}
    for candidate in row["candidates"]:
        if candidate["algorithm"] == "hdbscan":
            assert "k_min=3" in candidate["rejection_reason"]
        else:
            assert candidate["rejection_reason"].startswith("smallest segment")
            assert "< 30.0%" in candidate["rejection_reason"]
    assert row["algorithm"] == "hdbscan"
    assert any(r.levelname == "WARNING" for r in caplog.records)


def test_min_segment_share_is_respected_end_to_end(
    segmentation_table_from_matrix: Callable[..., pa.Table],
) -> None:
    # three big blobs and a small one holding 3% of the customers
    X, _ = make_blobs(
        n_samples=[600, 600, 600, 56],
        n_features=10,
        cluster_std=0.5,
        center_box=(-10.0, 10.0),
        random_state=9,
    )
    config = SegmentationConfig.from_dict(
        {
            "algorithms": ["kmeans"],
            "min_segment_share": 0.05,
            "k_min": 3,
            "k_max": 5,
            "bootstrap_samples": 2,
            "log_transform": "none",  # synthetic blobs, as in blob_result
        }
    )
    result = fit_segmentation(segmentation_table_from_matrix(X), config)
    row = result.registry_row
    assert row["n_segments"] == 3
    assert min(s["share"] for s in row["segments"]) >= 0.05
    four = next(c for c in row["candidates"] if c["k"] == 4)
    assert not four["is_eligible"]
    assert four["rejection_reason"].startswith("smallest segment 3.0% < 5.0%")


# --------------------------------------------------------------------------
# Determinism and reproducible scoring


def test_fit_is_deterministic_and_order_independent(
    segmentation_customers: pa.Table, customer_result: SegmentationResult
) -> None:
    shuffled = segmentation_customers.take(
        np.random.default_rng(0).permutation(segmentation_customers.num_rows)
    )
    # as the dbt model gets it: duckdb 1.5's relation.arrow() is a batch reader
    reader = duckdb.connect().from_arrow(shuffled).arrow()
    assert isinstance(reader, pa.RecordBatchReader)
    again = fit_segmentation(reader, SegmentationConfig.from_dict(FAST))
    assert again.model_version == customer_result.model_version
    assert again.labels == customer_result.labels
    first = customer_result.registry_row
    second = again.registry_row
    for key in ("centroids", "segments", "transform", "reference_distributions"):
        assert second[key] == first[key], key

    def without_time(row: dict) -> list[dict]:
        return [
            {k: v for k, v in c.items() if k != "fit_seconds"}
            for c in row["candidates"]
        ]

    assert without_time(second) == without_time(first)


def _same_model(result: SegmentationResult, expected: SegmentationResult) -> None:
    assert result.model_version == expected.model_version
    assert result.labels == expected.labels
    for key in ("centroids", "segments", "transform", "reference_distributions"):
        assert result.registry_row[key] == expected.registry_row[key], key
    fields = ("silhouette", "stability_ari", "stability_resamples", "k", "parameters")
    assert [[getattr(c, f) for f in fields] for c in result.candidates] == [
        [getattr(c, f) for f in fields] for c in expected.candidates
    ]


def _ready_process() -> FitProcess:
    process = FitProcess.start()
    assert process is not None
    assert process._ready.wait(timeout=60), "the fitting process did not start"
    return process


def _fit_with(
    process: FitProcess,
    table: pa.Table,
    caplog: pytest.LogCaptureFixture,
    level: str,
) -> SegmentationResult:
    """The FAST fit with ``process``, closed after it; the fitting process's
    log from ``level`` up is in ``caplog``."""
    with caplog.at_level(level, logger="segmentation.fit_process"):
        try:
            return fit_segmentation(
                table, SegmentationConfig.from_dict(FAST), process=process
            )
        finally:
            process.close()


def test_fit_does_not_depend_on_the_fitting_threads(
    segmentation_customers: pa.Table,
    customer_result: SegmentationResult,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Candidates and bootstrap refits one at a time give the model that
    several threads gave (customer_result), candidate for candidate; and a
    bootstrap stopped early at the floor counts the same resamples."""
    assert concurrency_module.FIT_WORKERS >= 2  # customer_result used threads
    monkeypatch.setattr(concurrency_module, "FIT_WORKERS", 1)
    alone = fit_segmentation(segmentation_customers, SegmentationConfig.from_dict(FAST))
    _same_model(alone, customer_result)
    resamples = [c.stability_resamples for c in alone.candidates]
    assert FAST["bootstrap_samples"] in resamples
    # some candidate was stopped at the floor before its last resample
    assert any(0 < r < FAST["bootstrap_samples"] for r in resamples if r is not None)


def test_fit_does_not_depend_on_the_fitting_process(
    segmentation_customers: pa.Table,
    customer_result: SegmentationResult,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Fits made in a second process (segmentation.fit_process) give the
    model made without one (customer_result), candidate for candidate; the
    process made some of the fits, agglomerative ones included, and exits
    when closed."""
    process = _ready_process()
    made: list[str] = []
    try_fit = process.try_fit

    def recording(spec, data, seed):  # noqa: ANN001, ANN202 - FitProcess.try_fit
        fit = try_fit(spec, data, seed)
        if fit is not None:
            made.append(spec.algorithm)
        return fit

    process.try_fit = recording  # type: ignore[method-assign]
    result = _fit_with(process, segmentation_customers, caplog, "INFO")
    _same_model(result, customer_result)
    assert {"kmeans", "gaussian_mixture", "agglomerative"} <= set(made)
    assert process.fits == len(made)
    assert process._popen.returncode == 0
    assert f"the fitting process made {len(made)} fits" in caplog.text
    assert fit_process_module.active() is None


def test_a_failed_fitting_process_leaves_the_fits_here(
    segmentation_customers: pa.Table,
    customer_result: SegmentationResult,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A process that dies before or during the fit: a warning, every fit
    made here, the same model."""
    process = _ready_process()
    process._popen.kill()
    process._popen.wait()
    result = _fit_with(process, segmentation_customers, caplog, "WARNING")
    _same_model(result, customer_result)
    assert process.fits == 0
    assert (
        caplog.text.count("the fitting process is not used: it stopped answering") == 1
    )


def test_map_in_threads_keeps_order_errors_warnings_and_one_openmp_thread() -> None:
    """In a fit_threads block: results in the order of the items, from the
    block's worker threads, the first failing task's error, one OpenMP
    thread in every worker (as in the fitting thread), and the warning
    filters as they were, although fitters change them meanwhile. Outside
    a block: the calling thread runs the tasks."""
    filters_before = list(warnings.filters)

    def task(i: int) -> tuple[int, int, int]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            time.sleep(0.01 * (i % 3))
        openmp = [
            info["num_threads"]
            for info in threadpoolctl.threadpool_info()
            if info["user_api"] == "openmp"
        ]
        return (
            i * i,
            max(openmp, default=concurrency_module.MAX_THREADS),
            threading.get_ident(),
        )

    def fails_on_five(i: int) -> int:
        if i == 5:
            raise ValueError("task 5")
        return i

    with concurrency_module.fit_threads(3):
        results = concurrency_module.map_in_threads(task, range(12))
        with pytest.raises(ValueError, match="task 5"):
            concurrency_module.map_in_threads(fails_on_five, range(8))
    assert [square for square, _, _ in results] == [i * i for i in range(12)]
    assert {threads for _, threads, _ in results} == {concurrency_module.MAX_THREADS}
    workers = {thread for _, _, thread in results}
    assert threading.get_ident() not in workers and 2 <= len(workers) <= 3
    assert warnings.filters == filters_before

    alone = concurrency_module.map_in_threads(task, range(4))
    assert {thread for _, _, thread in alone} == {threading.get_ident()}


def test_model_version_depends_on_data_and_settings(
    segmentation_customers: pa.Table, customer_result: SegmentationResult
) -> None:
    row = customer_result.registry_row
    assert re.fullmatch(r"[0-9a-f]{16}", row["model_version"])
    assert re.fullmatch(r"[0-9a-f]{64}", row["data_fingerprint"])
    other_settings = fit_segmentation(
        segmentation_customers,
        SegmentationConfig.from_dict(dict(FAST, algorithms=["kmeans"])),
    )
    assert other_settings.registry_row["data_fingerprint"] == row["data_fingerprint"]
    assert other_settings.model_version != customer_result.model_version


def test_score_agrees_with_the_training_labels(
    segmentation_customers: pa.Table, customer_result: SegmentationResult
) -> None:
    row = customer_result.to_arrow().to_pylist()[0]
    segment, distance, second, second_distance = score(segmentation_customers, row)
    expected = _segments_in_table_order(customer_result, segmentation_customers)
    np.testing.assert_array_equal(segment, expected)
    assert segment.dtype == np.int32
    assert np.all(second_distance >= distance)
    assert np.all(second != segment)
    # the distances are those the result reports, in its own (sorted) order
    order = np.argsort(segmentation_customers.column("customer_id").to_numpy())
    np.testing.assert_allclose(distance[order], customer_result.distances)


def test_score_handles_new_customers_with_nulls(
    customer_result: SegmentationResult,
) -> None:
    row = customer_result.registry_row
    features = row["features_used"]
    new = pa.table(
        {f: pa.array([None, 1e9, -1e9], type=pa.float64()) for f in features}
    )
    segment, distance, _, _ = score(new, row)
    assert set(segment.tolist()) <= {s["segment_id"] for s in row["segments"]}
    assert np.all(np.isfinite(distance))
    with pytest.raises(SegmentationError, match="lacks the model's features"):
        score(new.drop_columns([features[0]]), row)


# --------------------------------------------------------------------------
# The registry row


def test_registry_row_contents(blob_result: SegmentationResult) -> None:
    row = blob_result.to_arrow().to_pylist()[0]
    features = row["features_used"]
    k = row["n_segments"]
    assert row["training_customers"] == 2000
    assert row["training_cutoff_date"] == dt.date(2011, 12, 10)
    assert row["trained_at"].tzinfo is not None
    assert json.loads(row["settings_json"]) == blob_result.config.to_dict()
    assert json.loads(row["parameters_json"])["pca"] is None
    assert "4 <= segments <= 8" in row["selection_rule"]
    assert len(row["centroids"]) == k * len(features)
    assert {c["segment_id"] for c in row["centroids"]} == set(range(1, k + 1))
    assert [t["feature"] for t in row["transform"]] == features
    assert [t["position"] for t in row["transform"]] == list(range(len(features)))
    dropped = {d["feature"] for d in row["features_dropped"]}
    assert dropped.isdisjoint(features)
    assert dropped | set(features) == set(blob_result.config.features)
    assert sum(s["share"] for s in row["segments"]) == pytest.approx(1.0)
    assert sum(s["size"] for s in row["segments"]) == 2000
    ids = [c["candidate_id"] for c in row["candidates"]]
    assert ids == sorted(ids) == list(range(1, len(ids) + 1))
    assert sum(c["is_selected"] for c in row["candidates"]) == 1
    selected = next(c for c in row["candidates"] if c["is_selected"])
    assert selected["algorithm"] == row["algorithm"]
    assert selected["is_eligible"]
    assert selected["rejection_reason"] is None
    assert selected["stability_ari"] >= 0.6
    assert [r["feature"] for r in row["reference_distributions"]] == features
    for reference in row["reference_distributions"]:
        assert sum(reference["shares"]) == pytest.approx(1.0)
        assert len(reference["shares"]) == len(reference["bin_edges"]) - 1
        assert reference["bin_edges"] == sorted(set(reference["bin_edges"]))
    for segment in row["segments"]:
        if segment["segment_id"] > 0:
            assert 0.0 <= segment["jaccard_stability"] <= 1.0


def test_segment_ids_follow_monetary(blob_result: SegmentationResult) -> None:
    row = blob_result.registry_row
    monetary = {
        c["segment_id"]: c["centroid_original"]
        for c in row["centroids"]
        if c["feature"] == "monetary"
    }
    assert "monetary" in row["features_used"]
    ordered = sorted(monetary, key=lambda s: -monetary[s])
    assert ordered == sorted(monetary)


def test_previous_model_keeps_segment_ids(
    segmentation_blobs: tuple[pa.Table, np.ndarray], blob_result: SegmentationResult
) -> None:
    table, _ = segmentation_blobs
    previous = blob_result.to_arrow().to_pylist()[0]
    relabel = {1: 7, 2: 3, 3: 9, 4: 5}  # a previous model with other ids
    previous["centroids"] = [
        dict(c, segment_id=relabel[c["segment_id"]]) for c in previous["centroids"]
    ]
    config = SegmentationConfig.from_dict(
        {
            "bootstrap_samples": 3,
            "algorithms": ["kmeans"],
            "random_state": 1,
            "log_transform": "none",  # the previous model's transform
        }
    )
    result = fit_segmentation(table, config, previous_model=previous)
    old = _segments_in_table_order(blob_result, table)
    new = _segments_in_table_order(result, table)
    inside = old > 0
    assert np.all(new[inside] == np.array([relabel[s] for s in old[inside]]))
    assert "matched to previous model" in result.registry_row["selection_note"]
    assert sorted(s["segment_id"] for s in result.registry_row["segments"]) == [
        3,
        5,
        7,
        9,
    ]


# --------------------------------------------------------------------------
# Options


def test_pca_quantile_and_minibatch_options(segmentation_customers: pa.Table) -> None:
    config = SegmentationConfig.from_dict(
        {
            "algorithms": ["kmeans", "agglomerative"],
            "pca_components": 3,
            "scaler": "quantile",
            # k-means is fitted on the 800-row sample: above the threshold
            "minibatch_threshold": 500,
            "bootstrap_samples": 2,
            "sample_size": 800,
            "k_max": 5,
        }
    )
    result = fit_segmentation(segmentation_customers, config)
    row = result.registry_row
    assert json.loads(row["parameters_json"])["pca"]["n_components"] == 3
    assert all(t["quantile_knots"] for t in row["transform"])
    kmeans = [c for c in result.candidates if c.algorithm == "kmeans"]
    assert kmeans
    assert all(c.parameters["fit_rows"] == 800 for c in kmeans)
    assert all(c.parameters["minibatch"] for c in kmeans)
    # centroids live in the scaled space of all used features, not PCA space
    assert len(row["centroids"]) == row["n_segments"] * len(row["features_used"])
    segment, _, _, _ = score(segmentation_customers, row)
    expected = _segments_in_table_order(result, segmentation_customers)
    np.testing.assert_array_equal(segment, expected)


def _record_rows_seen(
    monkeypatch: pytest.MonkeyPatch, **steps: tuple[object, str]
) -> dict[str, list[int]]:
    """Patch each step (module, attribute), a function called with X first or
    an estimator class, so that every call or `fit` records the number of rows
    of X it was given; returns step name -> the row counts seen, in order."""
    seen: dict[str, list[int]] = {name: [] for name in steps}

    def recording(real: object, rows: list[int]) -> object:
        if isinstance(real, type):

            class Recording(real):  # type: ignore[misc, valid-type]
                def fit(self, X: np.ndarray, y: object = None) -> Recording:
                    rows.append(X.shape[0])
                    return super().fit(X, y)

            return Recording

        def call(X: np.ndarray, *args: object, **kwargs: object) -> object:
            rows.append(X.shape[0])
            return real(X, *args, **kwargs)  # type: ignore[operator]

        return call

    for name, (module, attribute) in steps.items():
        monkeypatch.setattr(
            module, attribute, recording(getattr(module, attribute), seen[name])
        )
    return seen


def test_quadratic_steps_only_see_the_sample(
    segmentation_customers: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _record_rows_seen(
        monkeypatch,
        ward=(fitting_module, "ward_tree"),
        hdbscan=(fitting_module, "HDBSCAN"),
        silhouette=(evaluation_module, "pairwise_distances"),
    )
    config = SegmentationConfig.from_dict(
        {
            "algorithms": ["agglomerative", "gaussian_mixture", "hdbscan"],
            "sample_size": 400,
            "bootstrap_samples": 2,
            "k_max": 4,
        }
    )
    result = fit_segmentation(segmentation_customers, config)
    assert segmentation_customers.num_rows == 3000
    assert seen["ward"]
    assert seen["hdbscan"]
    assert seen["silhouette"]
    assert max(seen["ward"]) <= 400
    assert max(seen["hdbscan"]) <= 400
    assert max(seen["silhouette"]) <= 400
    for candidate in result.candidates:
        assert candidate.parameters["fit_rows"] <= 400
    assert len(result.labels) == 3000  # yet every customer gets a segment


def test_costly_algorithms_see_the_bootstrap_reference_sample(
    segmentation_customers: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    """k-means sees the whole sample; Ward, HDBSCAN and the mixture at most
    BOOTSTRAP_MAX_ROWS of it, as their bootstrap refits do."""
    limit = evaluation_module.BOOTSTRAP_MAX_ROWS
    rows = segmentation_customers.num_rows
    assert rows > limit
    seen = _record_rows_seen(
        monkeypatch,
        ward=(fitting_module, "ward_tree"),
        hdbscan=(fitting_module, "HDBSCAN"),
        mixture=(fitting_module, "GaussianMixture"),
    )
    config = SegmentationConfig.from_dict(
        {"sample_size": rows, "bootstrap_samples": 0, "k_min": 3, "k_max": 4}
    )
    result = fit_segmentation(segmentation_customers, config)
    assert all(seen.values())
    assert {n for sizes in seen.values() for n in sizes} == {limit}
    fit_rows = {c.algorithm: c.parameters["fit_rows"] for c in result.candidates}
    assert fit_rows["kmeans"] == rows
    assert fit_rows["agglomerative"] == fit_rows["gaussian_mixture"] == limit
    assert len(result.labels) == rows


def test_candidates_are_evaluated_on_a_bounded_sample(
    segmentation_customers: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above EVALUATION_MAX_ROWS customers each candidate's metrics come
    from the evaluation sample, while the chosen model labels and sizes
    every customer."""
    limit = 1000
    rows = segmentation_customers.num_rows
    assert rows > limit
    monkeypatch.setattr(candidates_module, "EVALUATION_MAX_ROWS", limit)
    seen = _record_rows_seen(monkeypatch, metrics=(evaluation_module, "cluster_scores"))
    config = SegmentationConfig.from_dict(
        {"bootstrap_samples": 2, "k_min": 3, "k_max": 4}
    )
    result = fit_segmentation(segmentation_customers, config)
    # outliers left out, so at most the sample's rows
    assert seen["metrics"] and max(seen["metrics"]) <= limit
    assert len(result.labels) == rows
    segments = [r for r in result.artifact_rows if r["artifact"] == "segment"]
    assert sum(r["segment_size"] for r in segments) == rows
    # segment 0 holds the outliers; the sample's smallest share estimates
    # that of all customers
    sizes = np.bincount(result.segment_ids)[1:]
    smallest_of_all = sizes[sizes > 0].min() / rows
    assert result.selected.smallest_segment_share == pytest.approx(
        smallest_of_all, abs=0.05
    )


# --------------------------------------------------------------------------
# Errors


def test_too_few_customers(
    segmentation_table_from_matrix: Callable[..., pa.Table],
) -> None:
    table = segmentation_table_from_matrix(np.arange(20.0).reshape(2, 10))
    with pytest.raises(SegmentationError) as raised:
        fit_segmentation(table, SegmentationConfig())
    message = str(raised.value)
    assert "Cannot segment 2 customers" in message
    assert "segmentation.k_min is 4" in message
    empty = segmentation_table_from_matrix(np.empty((0, 10)))
    with pytest.raises(SegmentationError, match="Cannot segment 0 customers"):
        fit_segmentation(empty, SegmentationConfig())


def test_all_constant_features(
    segmentation_table_from_matrix: Callable[..., pa.Table],
) -> None:
    table = segmentation_table_from_matrix(np.ones((50, 10)))
    with pytest.raises(SegmentationError) as raised:
        fit_segmentation(table, SegmentationConfig())
    message = str(raised.value)
    assert "No feature is usable" in message
    assert "recency_days: constant" in message
    assert "tenure_days: constant" in message


def test_all_null_feature_is_dropped(
    segmentation_table_from_matrix: Callable[..., pa.Table],
) -> None:
    X, _ = make_blobs(n_samples=300, centers=3, n_features=10, random_state=2)
    X[:, 4] = np.nan
    # items_per_order (column 4) is not a default feature: name it
    config = SegmentationConfig.from_dict(
        {
            "features": ["recency_days", "frequency", "monetary", "items_per_order"],
            "algorithms": ["kmeans"],
            "bootstrap_samples": 0,
            "k_max": 4,
        }
    )
    row = fit_segmentation(segmentation_table_from_matrix(X), config).registry_row
    assert {"feature": "items_per_order", "reason": "all null"} in row[
        "features_dropped"
    ]
    assert "items_per_order" not in row["features_used"]
    assert all(c["stability_ari"] is None for c in row["candidates"])


def test_only_null_features_raise(
    segmentation_table_from_matrix: Callable[..., pa.Table],
) -> None:
    table = segmentation_table_from_matrix(
        np.full((30, 2), np.nan), features=("monetary", "frequency")
    )
    config = SegmentationConfig(features=("monetary", "frequency"))
    with pytest.raises(
        SegmentationError, match="monetary: all null; frequency: all null"
    ):
        fit_segmentation(table, config)


def test_missing_feature_is_a_config_error(segmentation_customers: pa.Table) -> None:
    table = segmentation_customers.drop_columns(["monetary"])
    with pytest.raises(ConfigError) as raised:
        fit_segmentation(table, SegmentationConfig())
    message = str(raised.value)
    assert message.startswith("segmentation.features: 'monetary' is not in the input")
    assert "available columns: recency_days, frequency" in message


def test_bad_input_tables(segmentation_customers: pa.Table) -> None:
    repeated = pa.concat_tables(
        [segmentation_customers, segmentation_customers.slice(0, 2)]
    )
    with pytest.raises(SegmentationError, match="2 repeated customer_id"):
        fit_segmentation(repeated, SegmentationConfig())
    text = segmentation_customers.set_column(
        segmentation_customers.schema.get_field_index("monetary"),
        "monetary",
        pa.array(["x"] * segmentation_customers.num_rows),
    )
    with pytest.raises(ConfigError, match="'monetary' has type string"):
        fit_segmentation(text, SegmentationConfig())
    with pytest.raises(SegmentationError, match="no 'customer_id' column"):
        fit_segmentation(segmentation_customers.drop_columns(["customer_id"]), None)


def test_a_fitting_process_closed_while_starting_is_stopped_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A fit that ends before the process is ready (a small data set) does
    not wait for its import: the process is killed, and no warning."""
    process = FitProcess.start()
    assert process is not None
    started = time.perf_counter()
    with caplog.at_level("WARNING", logger="segmentation.fit_process"):
        process.close()
    assert time.perf_counter() - started < 5
    assert process._popen.returncode is not None
    assert not process.usable
    assert "not used" not in caplog.text
