"""Fit the customer segmentation: the pipeline from feature matrix to model.

:func:`fit_segmentation` runs the whole pipeline on a pyarrow table of
customer features:

1. rows are put in a canonical order (by ``customer_id``, see
   :mod:`~segmentation.data`) so the result does not depend on the order the
   warehouse returns them in;
2. :class:`~segmentation.preprocessing.FeatureTransformer` imputes, logs,
   winsorizes and scales the features and drops useless ones; optional PCA
   follows, inside fitting only;
3. every candidate of :func:`~segmentation.algorithms.candidate_specs` is
   fitted, deployed as a nearest-centroid model and evaluated on the
   deployed labels of a seeded evaluation sample of at most
   :data:`~segmentation.evaluation.EVALUATION_MAX_ROWS` customers
   (:mod:`~segmentation.candidates`); candidates passing the cheap checks
   are bootstrapped;
4. :func:`~segmentation.selection.select_candidate` applies the selection
   rule; the chosen segments are numbered or matched to a previous model
   (:mod:`~segmentation.segment_ids`);
5. the model is returned as a :class:`SegmentationResult` whose flat
   ``artifact_rows`` (:mod:`~segmentation.registry_row`) the dbt model
   writes (:mod:`~segmentation.artifacts`), and whose ``registry_row`` is
   their nested view.

Scoring the warehouse's customers is SQL's job (int_customers_scored);
:func:`~segmentation.scoring.score` is its Python reference for tests.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from threadpoolctl import threadpool_limits

from .algorithms import CandidateSpec, DeployedModel, candidate_specs
from .artifacts import nested_row
from .candidate_record import Candidate
from .candidates import (
    FitContext,
    evaluate_candidate,
    fit_pca,
    last_resort,
    log_candidate,
)
from .concurrency import MAX_THREADS, fit_threads, map_in_threads
from .config import SegmentationConfig
from .data import (
    ArrowLike,
    as_arrow_table,
    data_fingerprint,
    too_few_customers,
    training_data,
    version_of,
)
from .errors import SegmentationError
from .evaluation import (
    StabilityBootstrap,
    StabilityJob,
    attach_feature_checks,
    top_value_shares,
)
from .fit_process import FitProcess, fits_in
from .preprocessing import FeatureTransformer
from .registry import REGISTRY_SCHEMA
from .registry_row import Deployment, artifact_rows
from .segment_ids import assign_segment_ids
from .selection import cheap_rejections, next_stability_needed, select_candidate

__all__ = ["SegmentationResult", "fit_segmentation"]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------
# Result


@dataclass
class SegmentationResult:
    """A fitted segmentation.

    Attributes
    ----------
    customer_ids : ndarray of str
        Training customers, sorted ascending.
    segment_ids : ndarray of int32
        Segment of each customer under the deployed model (0 = outlier).
    distances : ndarray of float64
        Distance of each customer to its nearest centroid (scaled space).
    registry_row : dict
        The registry row, see :data:`~segmentation.registry.REGISTRY_SCHEMA`,
        grouped from ``artifact_rows``.
    artifact_rows : list of dict
        The model as flat rows (:data:`~segmentation.artifacts.ARTIFACT_SCHEMA`),
        what the registry model writes with
        :func:`~segmentation.artifacts.artifact_table`.
    candidates : list of Candidate
        Every evaluated candidate, by candidate id.
    transformer : FeatureTransformer
        The fitted feature transform.
    config : SegmentationConfig
        Settings used.
    """

    customer_ids: np.ndarray
    segment_ids: np.ndarray
    distances: np.ndarray
    registry_row: dict[str, Any]
    artifact_rows: list[dict[str, Any]] = field(repr=False)
    candidates: list[Candidate] = field(repr=False)
    transformer: FeatureTransformer = field(repr=False)
    config: SegmentationConfig = field(repr=False)

    @property
    def labels(self) -> dict[str, int]:
        """Customer id to segment id."""
        return dict(
            zip(self.customer_ids.tolist(), self.segment_ids.tolist(), strict=True)
        )

    @property
    def model_version(self) -> str:
        """Version of the model (16 hex characters)."""
        return str(self.registry_row["model_version"])

    @property
    def selected(self) -> Candidate:
        """The selected candidate."""
        return next(c for c in self.candidates if c.is_selected)

    def to_arrow(self) -> pa.Table:
        """The model as a one-row registry table.

        Returns
        -------
        pyarrow.Table
            One row with the schema
            :data:`~segmentation.registry.REGISTRY_SCHEMA`.
        """
        return pa.Table.from_pylist([self.registry_row], schema=REGISTRY_SCHEMA)


# --------------------------------------------------------------------------
# Fitting


def fit_segmentation(
    table: ArrowLike,
    config: SegmentationConfig | Mapping[str, Any] | None = None,
    training_cutoff_date: dt.date | str | None = None,
    previous_model: Mapping[str, Any] | None = None,
    process: FitProcess | None = None,
) -> SegmentationResult:
    """Fit the customer segmentation and build its registry row.

    Parameters
    ----------
    table : pyarrow.Table or Arrow-like
        One row per customer: ``customer_id`` (string) and the numeric
        feature columns named in ``config.features`` (nulls allowed). Row
        order does not matter. A record batch reader (``relation.arrow()`` in
        duckdb 1.5) or a DuckDB relation is read into a table first.
    config : SegmentationConfig or mapping or None
        Settings; a mapping is merged over the defaults with
        :meth:`SegmentationConfig.from_dict`.
    training_cutoff_date : datetime.date, ISO date string or None
        Stored with the model; not used for fitting.
    previous_model : mapping or None
        The previous registry row (``to_arrow().to_pylist()[0]`` or the
        same read back from the warehouse). When given, segments are matched
        to its centroids and keep their ids.
    process : FitProcess or None
        A second process to fit candidates in beside this one's threads
        (:meth:`FitProcess.start <segmentation.fit_process.FitProcess.start>`,
        started before scikit-learn is imported here); the result is the
        same with it or without. The caller closes it.

    Returns
    -------
    SegmentationResult

    Raises
    ------
    ConfigError
        If a configured feature is missing from ``table`` or not numeric.
    SegmentationError
        If the data cannot be segmented (too few customers, no usable
        feature, repeated or null customer ids).
    """
    if config is None or isinstance(config, Mapping):
        config = SegmentationConfig.from_dict(config)
    if not isinstance(config, SegmentationConfig):
        raise TypeError("config must be a SegmentationConfig or a mapping")
    table = as_arrow_table(table)
    if isinstance(training_cutoff_date, dt.datetime):
        training_cutoff_date = training_cutoff_date.date()
    elif isinstance(training_cutoff_date, str):
        training_cutoff_date = dt.date.fromisoformat(training_cutoff_date)
    trained_at = dt.datetime.now(dt.UTC)
    with threadpool_limits(limits=MAX_THREADS), fit_threads(), fits_in(process):
        return _fit(table, config, training_cutoff_date, previous_model, trained_at)


def _fit_transformer(X: np.ndarray, config: SegmentationConfig) -> FeatureTransformer:
    transformer = FeatureTransformer(
        features=list(config.features),
        log_transform=(
            config.log_transform
            if isinstance(config.log_transform, str)
            else list(config.log_transform)
        ),
        skew_threshold=config.skew_threshold,
        winsorize_percentiles=tuple(config.winsorize_percentiles),
        scaler=config.scaler,
        quantile_knots=config.quantile_knots,
        correlation_threshold=config.correlation_threshold,
    ).fit(X)
    if not transformer.features_used_:
        reasons = "; ".join(f"{f}: {r}" for f, r in transformer.features_dropped_)
        raise SegmentationError(
            "No feature is usable for segmentation: every configured feature "
            f"was dropped ({reasons}). Check the customer features model for "
            "these columns, or change segmentation.features."
        )
    return transformer


def _evaluate_candidates(
    ctx: FitContext,
) -> tuple[list[Candidate], dict[int, np.ndarray]]:
    """Fit and evaluate every candidate (several at once, in threads:
    :func:`~segmentation.concurrency.map_in_threads`), then bootstrap those
    the selection needs; also return each deployed candidate's labels of
    the evaluated customers (``ctx.evaluation_index``)."""
    config = ctx.config
    specs = candidate_specs(config, ctx.n_rows, ctx.Z.shape[1])
    logger.info(
        "fitting %d candidates on %d customers x %d dimensions (sample %d rows)",
        len(specs),
        ctx.n_rows,
        ctx.Z.shape[1],
        ctx.sample_index.size,
    )
    reference_index = ctx.reference_index
    candidates: list[Candidate] = []
    jobs: dict[int, StabilityJob] = {}
    deployed_labels: dict[int, np.ndarray] = {}
    evaluated = map_in_threads(
        lambda numbered: evaluate_candidate(*numbered, ctx),
        enumerate(specs, start=1),
    )
    for spec, (candidate, labels) in zip(specs, evaluated, strict=True):
        candidate_id = candidate.candidate_id
        candidates.append(candidate)
        if labels is not None:
            deployed_labels[candidate_id] = labels
        if (
            config.bootstrap_samples > 0
            and labels is not None
            and not cheap_rejections(candidate, config)
        ):
            assert candidate.deployed is not None
            reference_labels = (
                labels[reference_index]
                if ctx.evaluation_index is None
                else candidate.deployed.assign(ctx.Xs[reference_index])[0]
            )
            jobs[candidate_id] = StabilityJob(
                key=candidate_id,
                spec=CandidateSpec(spec.algorithm, candidate.parameters),
                reference_labels=reference_labels,
                n_segments=candidate.k,
            )
    if jobs:
        _bootstrap(jobs, candidates, ctx, reference_index)
    return candidates, deployed_labels


def _bootstrap(
    jobs: dict[int, StabilityJob],
    candidates: list[Candidate],
    ctx: FitContext,
    reference_index: np.ndarray,
) -> None:
    """Measure the stability of the candidates the selection needs, one at a
    time (:func:`~segmentation.selection.next_stability_needed`); the
    selected candidate, if it was stopped early (a fallback), is completed."""
    config = ctx.config
    started = time.perf_counter()
    runner = StabilityBootstrap(
        np.ascontiguousarray(ctx.Z[reference_index]),
        np.ascontiguousarray(ctx.Xs[reference_index]),
        ctx.to_scaled,
        n_resamples=config.bootstrap_samples,
        random_state=config.random_state,
    )
    by_id = {c.candidate_id: c for c in candidates}

    def measure(candidate: Candidate, floor: float | None) -> None:
        result = runner.measure(jobs[candidate.candidate_id], floor)
        candidate.stability_ari = result.ari
        candidate.stability_resamples = len(result.ari_values)
        candidate.jaccard = result.jaccard

    measured = 0
    while (candidate := next_stability_needed(candidates, config)) is not None:
        measure(candidate, config.stability_floor)
        measured += 1
    outcome = select_candidate(candidates, config)
    selected = outcome.selected
    if (
        selected is not None
        and selected.candidate_id in jobs
        and selected.stability_resamples is not None
        and selected.stability_resamples < config.bootstrap_samples
    ):
        measure(by_id[selected.candidate_id], None)
    logger.info(
        "bootstrap of %d of %d candidates x up to %d resamples on %d rows took %.1fs",
        measured,
        len(jobs),
        config.bootstrap_samples,
        reference_index.size,
        time.perf_counter() - started,
    )


def _deploy(
    selected: Candidate,
    transformer: FeatureTransformer,
    Xs: np.ndarray,
    previous_model: Mapping[str, Any] | None,
) -> tuple[Deployment, str | None]:
    """The selected candidate's non-empty segments, numbered, and every
    training customer's segment under it. The segments and their sizes
    are those of every customer (the candidates were measured on the
    evaluation sample)."""
    assert selected.deployed is not None
    labels, _ = selected.deployed.assign(Xs)
    sizes = np.bincount(labels[labels >= 0], minlength=selected.deployed.n_clusters)
    keep = np.flatnonzero(sizes > 0)
    centroids_scaled = selected.deployed.centroids[keep]
    radii = None if selected.deployed.radii is None else selected.deployed.radii[keep]
    jaccard = None if selected.jaccard is None else selected.jaccard[keep]
    centroids_original = transformer.inverse_transform(centroids_scaled)
    ids, id_note = assign_segment_ids(
        centroids_scaled,
        centroids_original,
        sizes[keep],
        transformer,
        previous_model,
    )
    by_id = np.argsort(ids, kind="stable")
    ids = ids[by_id]
    radii = None if radii is None else radii[by_id]
    final = DeployedModel(centroids_scaled[by_id], radii)
    nearest, distances = final.assign(Xs)
    segment_ids = np.where(nearest >= 0, ids[np.maximum(nearest, 0)], 0).astype(
        np.int32
    )
    deployment = Deployment(
        ids=ids,
        centroids_scaled=centroids_scaled[by_id],
        centroids_original=centroids_original[by_id],
        radii=radii,
        jaccard=None if jaccard is None else jaccard[by_id],
        segment_ids=segment_ids,
        distances=distances,
    )
    return deployment, id_note


def _fit(
    table: pa.Table,
    config: SegmentationConfig,
    training_cutoff_date: dt.date | None,
    previous_model: Mapping[str, Any] | None,
    trained_at: dt.datetime,
) -> SegmentationResult:
    started = time.perf_counter()
    customer_ids, X = training_data(table, config)
    n_rows = int(customer_ids.size)
    if n_rows < max(2, config.k_min):
        raise too_few_customers(n_rows, config)
    fingerprint = data_fingerprint(customer_ids, X, config.features)
    settings_json = json.dumps(config.to_dict(), sort_keys=True)
    transformer = _fit_transformer(X, config)
    Xs = transformer.transform(X)
    Z, to_scaled, pca_info = fit_pca(Xs, config)
    ctx = FitContext(config=config, Xs=Xs, Z=Z, to_scaled=to_scaled)

    candidates, deployed_labels = _evaluate_candidates(ctx)
    used = [list(config.features).index(f) for f in transformer.features_used_]
    raw = X[:, used]
    evaluated = slice(None) if ctx.evaluation_index is None else ctx.evaluation_index
    attach_feature_checks(
        candidates,
        raw[evaluated],
        ctx.Xs_evaluated,
        transformer.features_used_,
        deployed_labels,
        top_value_shares(raw),
    )
    del deployed_labels
    outcome = select_candidate(candidates, config)
    selected, fallback, note = outcome.selected, outcome.fallback, outcome.note
    if selected is None:
        selected, note = last_resort(candidates, ctx)
        candidates.append(selected)
        fallback = True
    for candidate in candidates:
        log_candidate(candidate)

    deployment, id_note = _deploy(selected, transformer, Xs, previous_model)
    note = " ".join(n for n in (note, id_note) if n) or None
    rows = artifact_rows(
        model_version=version_of(fingerprint, settings_json),
        fingerprint=fingerprint,
        trained_at=trained_at,
        training_cutoff_date=training_cutoff_date,
        settings_json=settings_json,
        config=config,
        selected=selected,
        pca_info=pca_info,
        fallback=fallback,
        note=note,
        transformer=transformer,
        X=X,
        deployment=deployment,
        candidates=candidates,
    )
    row = nested_row(rows)
    logger.info(
        "selected %s %s with %d segments%s in %.1fs (model %s)",
        selected.algorithm,
        selected.parameters_json,
        len(deployment.ids),
        " (fallback)" if fallback else "",
        time.perf_counter() - started,
        row["model_version"],
    )
    return SegmentationResult(
        customer_ids=customer_ids,
        segment_ids=deployment.segment_ids,
        distances=deployment.distances,
        registry_row=row,
        artifact_rows=rows,
        candidates=candidates,
        transformer=transformer,
        config=config,
    )
