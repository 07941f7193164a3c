"""Fit the customer segmentation and export it as one model-registry row.

:func:`fit_segmentation` runs the whole pipeline on a pyarrow table of
customer features:

1. rows are put in a canonical order (by ``customer_id``) so the result
   does not depend on the order the warehouse returns them in;
2. :class:`~segmentation.preprocessing.FeatureTransformer` imputes, logs,
   winsorizes and scales the features and drops useless ones; optional PCA
   follows, inside fitting only;
3. every candidate of :func:`~segmentation.algorithms.candidate_specs` is
   fitted, deployed as a nearest-centroid model and evaluated on the
   deployed labels; candidates passing the cheap checks are bootstrapped;
4. :func:`~segmentation.selection.select_candidate` applies the selection
   rule; the chosen segments are numbered (or matched to a previous model);
5. the model is returned as a :class:`SegmentationResult` whose
   :meth:`~SegmentationResult.to_arrow` is one registry row.

:func:`score` applies a registry row to new data exactly as the SQL scoring
does and is the reference the SQL is tested against.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from .algorithms import (
    SAMPLED_ALGORITHMS,
    CandidateSpec,
    DeployedModel,
    FitData,
    build_deployed_model,
    candidate_specs,
    fit_clusters,
)
from .config import SegmentationConfig
from .errors import ConfigError, SegmentationError
from .evaluation import (
    BOOTSTRAP_MAX_ROWS,
    SilhouetteSample,
    StabilityJob,
    attach_feature_checks,
    bootstrap_stability,
    deployed_metrics,
)
from .preprocessing import FeatureTransformer, reference_distribution
from .registry import REGISTRY_SCHEMA, model_from_registry_row
from .selection import (
    Candidate,
    cheap_rejections,
    describe_selection_rule,
    match_segment_ids,
    order_segments,
    select_candidate,
)

__all__ = [
    "ID_COLUMN",
    "MAX_THREADS",
    "SegmentationResult",
    "as_arrow_table",
    "data_fingerprint",
    "fit_segmentation",
    "score",
]

logger = logging.getLogger(__name__)

ID_COLUMN = "customer_id"
#: Cap on BLAS and OpenMP threads while fitting. One: the fit runs inside a
#: dbt build whose other node and DuckDB queries use the same cores, and
#: OpenMP threads spin while they wait for a busy core (fit at 87k customers
#: on 2 loaded cores: 44 to 76 s with 2 threads, 21 s with 1).
MAX_THREADS = 1


# --------------------------------------------------------------------------
# Reading the input


ArrowLike = Any  # pa.Table, RecordBatch(Reader), DuckDB relation, Arrow stream


def as_arrow_table(data: ArrowLike) -> pa.Table:
    """Materialize Arrow-like input as a :class:`pyarrow.Table`.

    Accepts a table, a record batch, a record batch reader (what
    ``duckdb`` 1.5's ``relation.arrow()`` returns), a DuckDB relation or any
    object exporting the Arrow C stream interface.
    """
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if hasattr(data, "to_arrow_table"):
        return data.to_arrow_table()
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise TypeError(
        "expected a pyarrow.Table, RecordBatch, RecordBatchReader or DuckDB "
        f"relation, got {type(data).__name__}"
    )


def _numeric_column(table: pa.Table, name: str) -> np.ndarray:
    column = table.column(name)
    kind = column.type
    if not (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_null(kind)
    ):
        raise ConfigError(
            f"segmentation.features: column {name!r} has type {kind}; allowed: "
            "numeric columns only."
        )
    values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)


def _check_columns(table: pa.Table, features: Sequence[str]) -> None:
    available = [c for c in table.column_names if c != ID_COLUMN]
    missing = [f for f in features if f not in table.column_names]
    if missing:
        raise ConfigError(
            f"segmentation.features: {', '.join(repr(m) for m in missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not in the input table; "
            f"available columns: {', '.join(available) or '(none)'}."
        )


def _training_data(
    table: pa.Table, config: SegmentationConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Customer ids (sorted) and the raw feature matrix in the same order."""
    if ID_COLUMN not in table.column_names:
        raise SegmentationError(
            f"The input table has no {ID_COLUMN!r} column (columns: "
            f"{', '.join(table.column_names)}). Each row must be one customer "
            f"identified by {ID_COLUMN}."
        )
    _check_columns(table, config.features)
    ids = table.column(ID_COLUMN)
    if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        ids = ids.cast(pa.string())
    if ids.null_count:
        raise SegmentationError(
            f"{ids.null_count} rows of the input table have a null {ID_COLUMN}; "
            "every row must be one identified customer. Filter them out upstream."
        )
    n_distinct = pc.count_distinct(ids).as_py()
    if n_distinct != len(ids):
        counts = pc.value_counts(ids)
        repeated = [
            item["values"] for item in counts.to_pylist() if item["counts"] > 1
        ][:5]
        raise SegmentationError(
            f"The input table has {len(ids) - n_distinct} repeated {ID_COLUMN} "
            f"values (for example {', '.join(map(repr, repeated))}); it must hold "
            "one row per customer."
        )
    order = pc.sort_indices(ids)
    sorted_ids = ids.take(order).to_numpy(zero_copy_only=False)
    n = len(ids)
    X = np.empty((n, len(config.features)), dtype=np.float64)
    order_np = np.asarray(order)
    for j, feature in enumerate(config.features):
        X[:, j] = _numeric_column(table, feature)[order_np]
    return np.asarray(sorted_ids, dtype=object), X


def data_fingerprint(
    customer_ids: Sequence[str] | np.ndarray,
    X: np.ndarray,
    features: Sequence[str],
) -> str:
    """SHA-256 of the customer ids and raw feature values.

    Parameters
    ----------
    customer_ids : sequence of str
        Ids sorted ascending (the canonical order).
    X : ndarray of shape (n_rows, len(features))
        Raw feature values in the same row order; NaN means null.
    features : sequence of str
        Column names of ``X``.

    Returns
    -------
    str
        64 hex characters.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([str(i) for i in customer_ids]).encode("utf-8"))
    digest.update(json.dumps(list(features)).encode("utf-8"))
    matrix = np.ascontiguousarray(X, dtype="<f8")
    missing = np.isnan(matrix)
    digest.update(np.packbits(missing).tobytes())
    digest.update(np.where(missing, 0.0, matrix).astype("<f8").tobytes())
    return digest.hexdigest()


def _too_few_customers(n: int, config: SegmentationConfig) -> SegmentationError:
    needed = max(2, config.k_min)
    noun = "customer" if n == 1 else "customers"
    return SegmentationError(
        f"Cannot segment {n} {noun}: segmentation.k_min is {config.k_min}, so "
        f"at least {needed} customers are needed (and in practice many times "
        "more, for segments to be meaningful). Check that the customer "
        "features model returned the expected rows, for example that the "
        "training cutoff date does not exclude most customers, or lower "
        "segmentation.k_min."
    )


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
        The registry row, see :data:`~segmentation.registry.REGISTRY_SCHEMA`.
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

    def labels_table(self) -> pa.Table:
        """Training labels as a table (customer_id, segment_id, distance)."""
        return pa.table(
            {
                ID_COLUMN: pa.array(self.customer_ids.tolist(), type=pa.string()),
                "segment_id": pa.array(self.segment_ids, type=pa.int32()),
                "distance": pa.array(self.distances, type=pa.float64()),
            }
        )

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


def _identity(values: np.ndarray) -> np.ndarray:
    return values


def _fit_pca(
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
class _FitContext:
    """The data every candidate is fitted and evaluated on.

    ``Xs`` holds all customers in the scaled space and ``Z`` in the fitting
    space (the same array without PCA). ``sample_index`` is the seeded
    sample of at most ``sample_size`` rows that the sampled algorithms are
    fitted on; ``boot_rows`` are positions within that sample used as the
    bootstrap reference; ``silhouette`` the seeded sample every candidate's
    silhouette is measured on, with its distances.
    """

    config: SegmentationConfig
    Xs: np.ndarray
    Z: np.ndarray
    to_scaled: Callable[[np.ndarray], np.ndarray]
    sample_index: np.ndarray = field(init=False)
    boot_rows: np.ndarray = field(init=False)
    full: FitData = field(init=False)
    sample: FitData = field(init=False)
    silhouette: SilhouetteSample = field(init=False)

    def __post_init__(self) -> None:
        n = self.n_rows
        seed = self.config.random_state
        self.sample_index = _sample_rows(n, self.config.sample_size, seed, stream=1)
        self.boot_rows = _sample_rows(
            self.sample_index.size, BOOTSTRAP_MAX_ROWS, seed, stream=3
        )
        self.full = FitData(self.Z)
        self.sample = FitData(np.ascontiguousarray(self.Z[self.sample_index]))
        self.silhouette = SilhouetteSample.draw(self.Z, self.config.sample_size, seed)

    @property
    def n_rows(self) -> int:
        """Number of customers."""
        return int(self.Z.shape[0])

    def data_for(self, spec: CandidateSpec) -> tuple[FitData, np.ndarray]:
        """Rows ``spec`` is fitted on, and the same rows in the scaled space.

        Every algorithm is fitted on the seeded sample.
        """
        if spec.algorithm in SAMPLED_ALGORITHMS:
            return self.sample, self.Xs[self.sample_index]
        return self.full, self.Xs


def _evaluate_candidate(
    candidate_id: int, spec: CandidateSpec, ctx: _FitContext
) -> tuple[Candidate, np.ndarray | None]:
    """Fit, deploy and evaluate one candidate; also return its deployed labels."""
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
    labels, _ = deployed.assign(ctx.Xs)
    metrics = deployed_metrics(ctx.Z, labels, fit.centroids, ctx.silhouette)
    candidate.deployed = deployed
    candidate.fit_centroids = fit.centroids
    candidate.sizes = metrics.sizes
    candidate.silhouette = metrics.silhouette
    candidate.davies_bouldin = metrics.davies_bouldin
    candidate.calinski_harabasz = metrics.calinski_harabasz
    candidate.inertia = metrics.inertia
    candidate.smallest_segment_share = metrics.smallest_segment_share
    candidate.noise_share = metrics.noise_share
    candidate.fit_seconds = time.perf_counter() - started
    return candidate, labels


def _log_candidate(candidate: Candidate) -> None:
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


def _previous_centroids(
    previous_model: Mapping[str, Any],
    transformer: FeatureTransformer,
    common: Sequence[str],
) -> dict[int, np.ndarray]:
    """Previous centroids over ``common`` features in the new scaled space.

    The previous centroids are taken in original units and passed through
    the new transform, so a change of scaling (or of the log decision)
    between the two models does not distort the matching; the previous
    scaled value is used when the original one is missing.
    """
    transforms = {t.feature: t for t in transformer.transforms_}
    values: dict[int, dict[str, float]] = {}
    for entry in previous_model.get("centroids") or []:
        segment = int(entry["segment_id"])
        feature = entry["feature"]
        if segment <= 0 or feature not in common:
            continue
        original = entry.get("centroid_original")
        if original is not None and math.isfinite(float(original)):
            scaled = float(transforms[feature].apply(np.asarray([float(original)]))[0])
        else:
            scaled = float(entry["centroid_scaled"])
        values.setdefault(segment, {})[feature] = scaled
    return {
        segment: np.asarray([by_feature[f] for f in common])
        for segment, by_feature in values.items()
        if all(f in by_feature for f in common)
    }


def _assign_segment_ids(
    centroids_scaled: np.ndarray,
    centroids_original: np.ndarray,
    sizes: np.ndarray,
    transformer: FeatureTransformer,
    previous_model: Mapping[str, Any] | None,
) -> tuple[np.ndarray, str | None]:
    """Segment id of each centroid row, and a note on how they were given."""
    features = transformer.features_used_
    order = order_segments(centroids_original, sizes, features)
    ids = np.empty(len(order), dtype=np.int32)
    if previous_model is None:
        ids[order] = np.arange(1, len(order) + 1, dtype=np.int32)
        return ids, None
    previous_features = list(previous_model.get("features_used") or [])
    common = [f for f in features if f in previous_features]
    previous_version = previous_model.get("model_version")
    previous = (
        _previous_centroids(previous_model, transformer, common) if common else {}
    )
    if not common or not previous:
        start = max(
            [int(c["segment_id"]) for c in previous_model.get("centroids") or []],
            default=0,
        )
        ids[order] = np.arange(start + 1, start + len(order) + 1, dtype=np.int32)
        note = (
            f"Previous model {previous_version} shares no usable centroid with "
            f"this one; new segment ids start after {start}."
        )
        logger.warning(note)
        return ids, note
    columns = [features.index(f) for f in common]
    mapping = match_segment_ids(previous, centroids_scaled[order][:, columns])
    for position, centroid_row in enumerate(order):
        ids[centroid_row] = mapping[position]
    kept = sorted(int(i) for i in ids if int(i) in previous)
    new = sorted(int(i) for i in ids if int(i) not in previous)
    retired = sorted(set(previous) - set(kept))
    note = (
        f"Segment ids matched to previous model {previous_version} over "
        f"{len(common)} common features: kept {kept}"
        + (f", new {new}" if new else "")
        + (f", retired {retired}" if retired else "")
        + "."
    )
    logger.info(note)
    return ids, note


def _last_resort(
    candidates: list[Candidate], ctx: _FitContext
) -> tuple[Candidate, str]:
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
    candidate, _ = _evaluate_candidate(len(candidates) + 1, spec, ctx)
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


def fit_segmentation(
    table: ArrowLike,
    config: SegmentationConfig | Mapping[str, Any] | None = None,
    training_cutoff_date: dt.date | str | None = None,
    previous_model: Mapping[str, Any] | None = None,
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
        Settings; a mapping is validated with
        :meth:`SegmentationConfig.from_dict`.
    training_cutoff_date : datetime.date, ISO date string or None
        Stored with the model; not used for fitting.
    previous_model : mapping or None
        The previous registry row (``to_arrow().to_pylist()[0]`` or the
        same read back from the warehouse). When given, segments are matched
        to its centroids and keep their ids.

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
    with threadpool_limits(limits=MAX_THREADS):
        return _fit(table, config, training_cutoff_date, previous_model, trained_at)


def _fit(
    table: pa.Table,
    config: SegmentationConfig,
    training_cutoff_date: dt.date | None,
    previous_model: Mapping[str, Any] | None,
    trained_at: dt.datetime,
) -> SegmentationResult:
    started = time.perf_counter()
    customer_ids, X = _training_data(table, config)
    n_rows = int(customer_ids.size)
    if n_rows < max(2, config.k_min):
        raise _too_few_customers(n_rows, config)
    fingerprint = data_fingerprint(customer_ids, X, config.features)
    settings = config.to_dict()
    settings_json = json.dumps(settings, sort_keys=True)
    model_version = hashlib.sha256(
        (fingerprint + settings_json).encode("utf-8")
    ).hexdigest()[:16]

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
    Xs = transformer.transform(X)
    Z, to_scaled, pca_info = _fit_pca(Xs, config)
    ctx = _FitContext(config=config, Xs=Xs, Z=Z, to_scaled=to_scaled)
    specs = candidate_specs(config, n_rows, Z.shape[1])
    logger.info(
        "fitting %d candidates on %d customers x %d dimensions (sample %d rows)",
        len(specs),
        n_rows,
        Z.shape[1],
        ctx.sample_index.size,
    )

    reference_index = ctx.sample_index[ctx.boot_rows]
    candidates: list[Candidate] = []
    jobs: list[StabilityJob] = []
    for candidate_id, spec in enumerate(specs, start=1):
        candidate, labels = _evaluate_candidate(candidate_id, spec, ctx)
        candidates.append(candidate)
        if (
            config.bootstrap_samples > 0
            and labels is not None
            and not cheap_rejections(candidate, config)
        ):
            jobs.append(
                StabilityJob(
                    key=candidate_id,
                    spec=CandidateSpec(spec.algorithm, candidate.parameters),
                    reference_labels=labels[reference_index],
                    n_segments=candidate.k,
                )
            )
    if jobs:
        boot_started = time.perf_counter()
        stability = bootstrap_stability(
            jobs,
            np.ascontiguousarray(Z[reference_index]),
            np.ascontiguousarray(Xs[reference_index]),
            to_scaled,
            n_resamples=config.bootstrap_samples,
            random_state=config.random_state,
        )
        logger.info(
            "bootstrap of %d candidates x %d resamples on %d rows took %.1fs",
            len(jobs),
            config.bootstrap_samples,
            reference_index.size,
            time.perf_counter() - boot_started,
        )
        for candidate in candidates:
            if candidate.candidate_id in stability:
                result = stability[candidate.candidate_id]
                candidate.stability_ari = result.ari
                candidate.jaccard = result.jaccard

    used = [list(config.features).index(f) for f in transformer.features_used_]
    attach_feature_checks(candidates, X[:, used], Xs, transformer.features_used_)
    outcome = select_candidate(candidates, config)
    selected, fallback, note = outcome.selected, outcome.fallback, outcome.note
    if selected is None:
        selected, note = _last_resort(candidates, ctx)
        candidates.append(selected)
        fallback = True
    for candidate in candidates:
        _log_candidate(candidate)

    # ---- the deployed model of the selected candidate
    assert selected.deployed is not None and selected.sizes is not None
    keep = np.flatnonzero(selected.sizes > 0)
    centroids_scaled = selected.deployed.centroids[keep]
    radii = None if selected.deployed.radii is None else selected.deployed.radii[keep]
    jaccard = None if selected.jaccard is None else selected.jaccard[keep]
    centroids_original = transformer.inverse_transform(centroids_scaled)
    ids, id_note = _assign_segment_ids(
        centroids_scaled,
        centroids_original,
        selected.sizes[keep],
        transformer,
        previous_model,
    )
    by_id = np.argsort(ids, kind="stable")
    ids = ids[by_id]
    centroids_scaled = centroids_scaled[by_id]
    centroids_original = centroids_original[by_id]
    radii = None if radii is None else radii[by_id]
    jaccard = None if jaccard is None else jaccard[by_id]
    final = DeployedModel(centroids_scaled, radii)
    nearest, distances = final.assign(Xs)
    segment_ids = np.where(nearest >= 0, ids[np.maximum(nearest, 0)], 0).astype(
        np.int32
    )
    if note and id_note:
        note = f"{note} {id_note}"
    elif id_note:
        note = id_note

    row = _registry_row(
        model_version=model_version,
        fingerprint=fingerprint,
        trained_at=trained_at,
        training_cutoff_date=training_cutoff_date,
        n_rows=n_rows,
        settings_json=settings_json,
        config=config,
        selected=selected,
        pca_info=pca_info,
        fallback=fallback,
        note=note,
        transformer=transformer,
        X=X,
        ids=ids,
        centroids_scaled=centroids_scaled,
        centroids_original=centroids_original,
        radii=radii,
        jaccard=jaccard,
        segment_ids=segment_ids,
        candidates=candidates,
    )
    logger.info(
        "selected %s %s with %d segments%s in %.1fs (model %s)",
        selected.algorithm,
        selected.parameters_json,
        len(ids),
        " (fallback)" if fallback else "",
        time.perf_counter() - started,
        model_version,
    )
    return SegmentationResult(
        customer_ids=customer_ids,
        segment_ids=segment_ids,
        distances=distances,
        registry_row=row,
        candidates=candidates,
        transformer=transformer,
        config=config,
    )


def _optional(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _registry_row(
    *,
    model_version: str,
    fingerprint: str,
    trained_at: dt.datetime,
    training_cutoff_date: dt.date | None,
    n_rows: int,
    settings_json: str,
    config: SegmentationConfig,
    selected: Candidate,
    pca_info: dict[str, Any] | None,
    fallback: bool,
    note: str | None,
    transformer: FeatureTransformer,
    X: np.ndarray,
    ids: np.ndarray,
    centroids_scaled: np.ndarray,
    centroids_original: np.ndarray,
    radii: np.ndarray | None,
    jaccard: np.ndarray | None,
    segment_ids: np.ndarray,
    candidates: list[Candidate],
) -> dict[str, Any]:
    features = transformer.features_used_
    parameters = dict(selected.parameters)
    parameters["pca"] = pca_info
    centroids = [
        {
            "segment_id": int(segment),
            "feature": feature,
            "centroid_scaled": float(centroids_scaled[i, j]),
            "centroid_original": float(centroids_original[i, j]),
        }
        for i, segment in enumerate(ids)
        for j, feature in enumerate(features)
    ]
    present, sizes = np.unique(segment_ids, return_counts=True)
    counts = {int(s): int(c) for s, c in zip(present, sizes, strict=True)}
    segments = []
    if radii is not None:
        size0 = counts.get(0, 0)
        segments.append(
            {
                "segment_id": 0,
                "size": size0,
                "share": size0 / n_rows,
                "radius": None,
                "jaccard_stability": None,
                "is_unstable": False,
            }
        )
    for i, segment in enumerate(ids):
        size = counts.get(int(segment), 0)
        stability = None if jaccard is None else _optional(float(jaccard[i]))
        segments.append(
            {
                "segment_id": int(segment),
                "size": size,
                "share": size / n_rows,
                "radius": None if radii is None else float(radii[i]),
                "jaccard_stability": stability,
                "is_unstable": bool(
                    stability is not None and stability < config.jaccard_unstable_below
                ),
            }
        )
    index = {name: j for j, name in enumerate(config.features)}
    references = []
    for transform in transformer.transforms_:
        raw = X[:, index[transform.feature]]
        imputed = np.where(np.isnan(raw), transform.impute_value, raw)
        edges, shares = reference_distribution(imputed)
        references.append(
            {"feature": transform.feature, "bin_edges": edges, "shares": shares}
        )
    return {
        "model_version": model_version,
        "data_fingerprint": fingerprint,
        "trained_at": trained_at,
        "training_cutoff_date": training_cutoff_date,
        "training_customers": int(n_rows),
        "settings_json": settings_json,
        "algorithm": selected.algorithm,
        "parameters_json": json.dumps(parameters, sort_keys=True),
        "n_segments": len(ids),
        "has_outlier_segment": radii is not None,
        "selection_rule": describe_selection_rule(config),
        "selection_fallback": bool(fallback),
        "selection_note": note,
        "features_used": list(features),
        "features_dropped": [
            {"feature": f, "reason": r} for f, r in transformer.features_dropped_
        ],
        "transform": transformer.to_records(),
        "centroids": centroids,
        "segments": segments,
        "candidates": [
            c.to_record() for c in sorted(candidates, key=lambda c: c.candidate_id)
        ],
        "reference_distributions": references,
    }


# --------------------------------------------------------------------------
# Scoring


def score(
    table: ArrowLike, model_row: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score customers with a registry row, as the SQL scoring does.

    For each row: transform the used features with the exported parameters,
    compute the Euclidean distance to every centroid in the scaled space,
    and take the nearest; when the model has an outlier segment and the
    distance exceeds that centroid's radius, the segment is 0.

    Parameters
    ----------
    table : pyarrow.Table or Arrow-like
        Rows to score, with the used feature columns (other columns are
        ignored).
    model_row : mapping
        A registry row, e.g. ``result.to_arrow().to_pylist()[0]``.

    Returns
    -------
    segment_id : ndarray of int32
        Assigned segment (0 = outlier), in the row order of ``table``.
    distance : ndarray of float64
        Distance to the nearest centroid.
    second_segment_id : ndarray of int32
        Segment of the second-nearest centroid (-1 with a single centroid).
    second_distance : ndarray of float64
        Distance to it (NaN with a single centroid).
    """
    table = as_arrow_table(table)
    registry = model_from_registry_row(model_row)
    missing = [f for f in registry.features if f not in table.column_names]
    if missing:
        raise SegmentationError(
            f"Cannot score: the table lacks the model's features {missing} "
            f"(columns: {', '.join(table.column_names)})."
        )
    columns = [_numeric_column(table, f) for f in registry.features]
    Xs = np.empty((table.num_rows, len(columns)), dtype=np.float64)
    for j, (transform, column) in enumerate(
        zip(registry.transforms, columns, strict=True)
    ):
        Xs[:, j] = transform.apply(column)
    model = registry.model
    dist = model.distances(Xs)
    rows = np.arange(table.num_rows)
    if dist.shape[1] >= 2:
        ranked = np.argsort(dist, axis=1, kind="stable")[:, :2]
        first, second = ranked[:, 0], ranked[:, 1]
        second_id = registry.segment_ids[second].astype(np.int32)
        second_distance = dist[rows, second]
    else:
        first = np.zeros(table.num_rows, dtype=np.int64)
        second_id = np.full(table.num_rows, -1, dtype=np.int32)
        second_distance = np.full(table.num_rows, np.nan)
    distance = dist[rows, first]
    segment = registry.segment_ids[first].astype(np.int32)
    if model.radii is not None:
        segment[distance > model.radii[first]] = 0
    return segment, distance, second_id, second_distance
