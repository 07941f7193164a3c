"""Settings of the customer segmentation: a typed record, not a rule book.

The rules of the settings (ranges, choices, combinations, and that every
feature is a numeric column of customer_features) have one home: the Jinja
macro ``segmentation_settings_problem`` (macros/segmentation_settings_problem.sql),
which the on-run-start hook ``validate_settings`` runs before a dbt build
touches any table. A dbt build hands the Python model the full settings,
defaults filled in by the macro ``segmentation_settings``; the defaults
below are the package's library defaults for direct Python callers, and
tests/python/test_segmentation_config.py holds them equal to the macro's.

:class:`SegmentationConfig` only converts types (lists to tuples, numbers
of float settings to floats) so the record is immutable, hashable and
serializes the same way whatever the caller passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .errors import ConfigError

__all__ = ["DEFAULT_FEATURES", "ConfigError", "SegmentationConfig"]

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
DEFAULT_ALGORITHMS: tuple[str, ...] = (
    "kmeans",
    "agglomerative",
    "gaussian_mixture",
    "hdbscan",
)
_FLOAT_SETTINGS = frozenset(
    {
        "skew_threshold",
        "correlation_threshold",
        "min_segment_share",
        "stability_floor",
        "jaccard_unstable_below",
        "k_tolerance",
    }
)


def _typed(name: str, value: Any) -> Any:
    """``value`` of setting ``name`` in its stored type; no rule is checked."""
    if name == "log_transform" and isinstance(value, (list, tuple)):
        # an empty list means "log nothing", the same as "none"
        return tuple(value) if value else "none"
    if name == "winsorize_percentiles" and isinstance(value, (list, tuple)):
        return tuple(float(v) for v in value)
    if isinstance(value, list):
        return tuple(value)
    if (
        name in _FLOAT_SETTINGS
        and isinstance(value, int)
        and not isinstance(value, bool)
    ):
        return float(value)
    return value


@dataclass(frozen=True)
class SegmentationConfig:
    """The settings of one segmentation run, as a typed, immutable record.

    A dbt build passes the settings already checked and defaulted by the
    Jinja macros (see the module docstring); :meth:`from_dict` merges a
    mapping over the defaults. List settings are stored as tuples;
    :meth:`to_dict` gives them back as lists.

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
        Largest number of rows of the seeded sample k-means is fitted on
        and of the silhouette's sample; the other algorithms and the
        bootstrap refits see at most 2,500 of the sample's rows.
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
            typed = _typed(item.name, getattr(self, item.name))
            object.__setattr__(self, item.name, typed)

    @classmethod
    def setting_names(cls) -> tuple[str, ...]:
        """Names of all settings, in declaration order."""
        return tuple(item.name for item in fields(cls))

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any] | None) -> SegmentationConfig:
        """Merge ``settings`` over the defaults.

        Parameters
        ----------
        settings : mapping or None
            The clustering settings (a dbt build passes all of them, checked
            by the Jinja macros). ``None`` or an empty mapping gives the
            defaults.

        Returns
        -------
        SegmentationConfig

        Raises
        ------
        ConfigError
            If ``settings`` is not a mapping or names an unknown setting.
        """
        if settings is None:
            return cls()
        if not isinstance(settings, Mapping):
            raise ConfigError(f"segmentation: got {settings!r}; expected a mapping.")
        unknown = sorted(str(key) for key in settings if key not in cls.setting_names())
        if unknown:
            raise ConfigError(f"segmentation: unknown setting(s) {', '.join(unknown)}.")
        return cls(**dict(settings))

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-serializable values."""
        result: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            result[item.name] = list(value) if isinstance(value, tuple) else value
        return result
