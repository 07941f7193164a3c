"""Settings of the customer segmentation and their validation.

The settings arrive from the dbt model configuration (``segmentation:`` in
YAML), so every value is checked here and every problem is reported as a
:class:`~segmentation.errors.ConfigError` naming the setting as
``segmentation.<name>``, the value received and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from .errors import ConfigError

__all__ = [
    "ALGORITHMS",
    "DEFAULT_FEATURES",
    "SCALERS",
    "SELECTION_METRICS",
    "ConfigError",
    "SegmentationConfig",
]

#: Recency, frequency, value, tenure and breadth: what a marketer acts on.
#: Behavioural ratios describe the segments (profiles, personas) and join
#: the clustering only when named in ``features``.
DEFAULT_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "distinct_products",
)
ALGORITHMS: tuple[str, ...] = (
    "kmeans",
    "agglomerative",
    "gaussian_mixture",
    "hdbscan",
    "dbscan",
)
DEFAULT_ALGORITHMS: tuple[str, ...] = (
    "kmeans",
    "agglomerative",
    "gaussian_mixture",
    "hdbscan",
)
SCALERS: tuple[str, ...] = ("robust", "standard", "quantile")
SELECTION_METRICS: tuple[str, ...] = (
    "silhouette",
    "davies_bouldin",
    "calinski_harabasz",
)
RESERVED_COLUMNS: tuple[str, ...] = ("customer_id",)
MAX_RANDOM_STATE = 2**32 - 1


def _path(name: str) -> str:
    return f"segmentation.{name}"


def _fail(name: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{_path(name)}: got {value!r}; allowed: {allowed}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _int_setting(name: str, value: Any, low: int, high: int | None = None) -> int:
    allowed = f"an integer >= {low}" + (f" and <= {high}" if high is not None else "")
    if not _is_int(value) or value < low or (high is not None and value > high):
        raise _fail(name, value, allowed)
    return int(value)


def _float_setting(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    allowed = f"a number in {left}{low}, {high}{right}"
    if not _is_number(value):
        raise _fail(name, value, allowed)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        raise _fail(name, value, allowed)
    return float(value)


def _choice_setting(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _fail(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def _string_list(name: str, value: Any, *, what: str) -> tuple[str, ...]:
    allowed = f"a non-empty list of unique {what}"
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise _fail(name, value, allowed)
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise _fail(name, value, allowed + f" (bad entry {item!r})")
    duplicates = sorted({item for item in value if list(value).count(item) > 1})
    if duplicates:
        raise _fail(name, value, allowed + f" (repeated: {', '.join(duplicates)})")
    return tuple(value)


def _check_features(value: Any) -> tuple[str, ...]:
    features = _string_list("features", value, what="feature column names")
    reserved = [f for f in features if f in RESERVED_COLUMNS]
    if reserved:
        raise _fail(
            "features",
            value,
            "numeric feature columns; customer_id is the key, not a feature",
        )
    return features


def _check_log_transform(value: Any) -> str | tuple[str, ...]:
    if isinstance(value, str):
        return _choice_setting("log_transform", value, ("auto", "all", "none"))
    if isinstance(value, (list, tuple)) and not value:
        # An empty list means "log nothing", the same as "none".
        return "none"
    return _string_list(
        "log_transform", value, what="feature names, or 'auto' or 'none'"
    )


def _check_percentiles(value: Any) -> tuple[float, float]:
    allowed = "a list [low, high] of two numbers with 0 <= low < high <= 1"
    if (
        isinstance(value, str)
        or not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(_is_number(v) for v in value)
    ):
        raise _fail("winsorize_percentiles", value, allowed)
    low, high = float(value[0]), float(value[1])
    if not 0.0 <= low < high <= 1.0:
        raise _fail("winsorize_percentiles", value, allowed)
    return (low, high)


def _check_pca(value: Any) -> int | float | None:
    allowed = (
        "null (no PCA), an integer >= 1 (number of components) or a number "
        "in (0, 1) (share of variance to keep)"
    )
    if value is None:
        return None
    if _is_int(value):
        if value < 1:
            raise _fail("pca_components", value, allowed)
        return int(value)
    if _is_number(value) and 0.0 < value < 1.0:
        return float(value)
    raise _fail("pca_components", value, allowed)


def _check_algorithms(value: Any) -> tuple[str, ...]:
    names = _string_list("algorithms", value, what="algorithm names")
    unknown = [name for name in names if name not in ALGORITHMS]
    if unknown:
        raise _fail(
            "algorithms",
            value,
            "a non-empty list drawn from " + ", ".join(repr(a) for a in ALGORITHMS),
        )
    return names


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "features": _check_features,
    "log_transform": _check_log_transform,
    "skew_threshold": lambda v: _float_setting("skew_threshold", v, 0.0, 1e6),
    "winsorize_percentiles": _check_percentiles,
    "scaler": lambda v: _choice_setting("scaler", v, SCALERS),
    "quantile_knots": lambda v: _int_setting("quantile_knots", v, 2, 10_001),
    "correlation_threshold": lambda v: _float_setting(
        "correlation_threshold", v, 0.0, 1.0, low_open=True
    ),
    "pca_components": _check_pca,
    "algorithms": _check_algorithms,
    "k_min": lambda v: _int_setting("k_min", v, 2),
    "k_max": lambda v: _int_setting("k_max", v, 2),
    "min_segment_share": lambda v: _float_setting(
        "min_segment_share", v, 0.0, 1.0, high_open=True
    ),
    "stability_floor": lambda v: _float_setting("stability_floor", v, 0.0, 1.0),
    "jaccard_unstable_below": lambda v: _float_setting(
        "jaccard_unstable_below", v, 0.0, 1.0
    ),
    "bootstrap_samples": lambda v: _int_setting("bootstrap_samples", v, 0, 1000),
    "sample_size": lambda v: _int_setting("sample_size", v, 50),
    "minibatch_threshold": lambda v: _int_setting("minibatch_threshold", v, 1),
    "k_tolerance": lambda v: _float_setting("k_tolerance", v, 0.0, 1.0),
    "selection_metric": lambda v: _choice_setting(
        "selection_metric", v, SELECTION_METRICS
    ),
    "random_state": lambda v: _int_setting("random_state", v, 0, MAX_RANDOM_STATE),
    "n_init": lambda v: _int_setting("n_init", v, 1, 100),
}


@dataclass(frozen=True)
class SegmentationConfig:
    """Validated settings of one segmentation run.

    Build it with :meth:`from_dict` from the ``segmentation`` block of the
    dbt configuration; constructing it directly validates the same way.
    List settings are stored as tuples so the object is immutable and
    hashable; :meth:`to_dict` gives them back as lists.

    Parameters
    ----------
    features : sequence of str
        Numeric columns of the input table to segment on, in this order.
    log_transform : {"all", "auto", "none"} or sequence of str
        ``"all"`` (the default) applies the signed ``log1p`` to every
        feature; ``"auto"`` applies the signed ``log1p`` to every feature whose
        training skewness exceeds ``skew_threshold``; a list names the
        features to transform.
    skew_threshold : float
        Skewness above which ``"auto"`` log-transforms a feature.
    winsorize_percentiles : (float, float)
        Training percentiles (after the log step) at which values are clipped.
    scaler : {"robust", "standard", "quantile"}
        How clipped values are put on a common scale.
    quantile_knots : int
        Number of quantiles used as knots by the ``"quantile"`` scaler.
    correlation_threshold : float
        Absolute Pearson correlation above which the later feature of a pair
        is dropped.
    pca_components : int, float or None
        Optional PCA applied while fitting (count, or share of variance).
    algorithms : sequence of str
        Clustering algorithms whose candidates compete.
    k_min, k_max : int
        Range of segment counts.
    min_segment_share : float
        Smallest share of customers a segment may hold.
    stability_floor : float
        Minimum mean bootstrap adjusted Rand index of an eligible candidate.
    jaccard_unstable_below : float
        Segments whose mean bootstrap Jaccard is below this are flagged.
    bootstrap_samples : int
        Number of bootstrap refits per candidate; 0 disables stability.
    sample_size : int
        Largest number of rows of the seeded sample every algorithm
        (k-means included) is fitted on and of the silhouette's sample; the
        bootstrap refits on at most 2,500 of the sample's rows.
    minibatch_threshold : int
        Above this many fitted rows (the sample, so never more than
        ``sample_size``) k-means uses ``MiniBatchKMeans``.
    k_tolerance : float
        The smallest k whose score is within this share of the best score
        over all k is chosen.
    selection_metric : {"silhouette", "davies_bouldin", "calinski_harabasz"}
        Metric ranking the eligible candidates.
    random_state : int
        Seed of every random step.
    n_init : int
        Number of k-means initialisations.
    """

    features: tuple[str, ...] = DEFAULT_FEATURES
    log_transform: str | tuple[str, ...] = "all"
    skew_threshold: float = 1.0
    winsorize_percentiles: tuple[float, float] = (0.01, 0.99)
    scaler: str = "robust"
    quantile_knots: int = 101
    correlation_threshold: float = 0.9
    pca_components: int | float | None = None
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    k_min: int = 4
    k_max: int = 8
    min_segment_share: float = 0.02
    stability_floor: float = 0.8
    jaccard_unstable_below: float = 0.6
    bootstrap_samples: int = 10
    sample_size: int = 5000
    minibatch_threshold: int = 100_000
    k_tolerance: float = 0.02
    selection_metric: str = "silhouette"
    random_state: int = 42
    n_init: int = 4

    def __post_init__(self) -> None:
        for item in fields(self):
            normalized = _VALIDATORS[item.name](getattr(self, item.name))
            object.__setattr__(self, item.name, normalized)
        self._check_combinations()

    def _check_combinations(self) -> None:
        if self.k_min > self.k_max:
            raise _fail(
                "k_min",
                self.k_min,
                f"an integer >= 2 and <= segmentation.k_max ({self.k_max})",
            )
        if self.min_segment_share * self.k_min > 1.0:
            raise _fail(
                "min_segment_share",
                self.min_segment_share,
                "a share small enough that segmentation.k_min "
                f"({self.k_min}) segments can all reach it, i.e. <= "
                f"{1.0 / self.k_min:.4g}",
            )
        if isinstance(self.log_transform, tuple):
            unknown = [f for f in self.log_transform if f not in self.features]
            if unknown:
                raise _fail(
                    "log_transform",
                    list(self.log_transform),
                    "'auto', 'none' or names from segmentation.features ("
                    + ", ".join(self.features)
                    + "); unknown: "
                    + ", ".join(unknown),
                )
        if _is_int(self.pca_components) and self.pca_components > len(self.features):
            raise _fail(
                "pca_components",
                self.pca_components,
                "at most the number of features "
                f"({len(self.features)}), or a variance share in (0, 1)",
            )

    @classmethod
    def setting_names(cls) -> tuple[str, ...]:
        """Names of all settings, in declaration order."""
        return tuple(item.name for item in fields(cls))

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any] | None) -> SegmentationConfig:
        """Merge ``settings`` over the defaults and validate the result.

        Parameters
        ----------
        settings : mapping or None
            The ``segmentation`` block of the dbt configuration. ``None`` or an
            empty mapping gives the defaults.

        Returns
        -------
        SegmentationConfig
            The validated, normalized settings.

        Raises
        ------
        ConfigError
            If a key is unknown or a value is invalid; the message names the
            setting as ``segmentation.<name>``.
        """
        if settings is None:
            return cls()
        if not isinstance(settings, Mapping):
            raise ConfigError(
                f"segmentation: got {settings!r}; allowed: a mapping of settings "
                "(or nothing, for the defaults)."
            )
        allowed = cls.setting_names()
        unknown = sorted(str(key) for key in settings if key not in allowed)
        if unknown:
            raise ConfigError(
                f"segmentation.{unknown[0]}: unknown setting"
                + (f" (also unknown: {', '.join(unknown[1:])})" if unknown[1:] else "")
                + "; allowed settings: "
                + ", ".join(allowed)
                + "."
            )
        return cls(**dict(settings))

    def to_dict(self) -> dict[str, Any]:
        """Return the normalized settings as JSON-serializable values."""
        result: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            result[item.name] = list(value) if isinstance(value, tuple) else value
        return result
