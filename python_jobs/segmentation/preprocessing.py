"""Feature transform exported to SQL: impute, signed log, winsorize, scale.

Scoring happens in SQL from the exported parameters, so the transform is
written out by hand with numpy and follows, per feature and in this order::

    1. x = coalesce(x, impute_value)                  -- training median
    2. if log_transform: x = sign(x) * ln(1 + abs(x))
    3. x = least(greatest(x, clip_low), clip_high)    -- training percentiles
    4. robust / standard:  x = (x - center) / scale
       quantile:           x = interp(x, quantile_knots, i / (n_knots - 1))

``center`` and ``scale`` are the median and interquartile range (robust) or
the mean and population standard deviation (standard) of the clipped
training values. The robust scale is floored at the 1st-99th percentile range
divided by ``RANGE_TO_IQR`` (3.45, that range over the IQR for a normal
distribution, so the floor only bites on features that are mostly a single
value, such as a return rate that is zero for three customers in four: with
a bare IQR such a feature's few non-zero values would sit dozens of units
away and swamp every other feature). A zero scale is replaced by 1.0. The quantile scaler maps
through the de-duplicated training quantiles of the clipped values onto
evenly spaced targets in [0, 1] and exports ``center = 0``, ``scale = 1``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import skew
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "ColumnTransform",
    "FeatureTransformer",
    "apply_column_transforms",
    "reference_distribution",
    "signed_expm1",
    "signed_log1p",
]

logger = logging.getLogger(__name__)

#: (99th - 1st percentile) / (75th - 25th percentile) of a normal distribution.
RANGE_TO_IQR = 3.45

REFERENCE_BINS = 10


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """Return ``sign(x) * ln(1 + |x|)``, the log step of the transform."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.log(1.0 + np.abs(x))


def signed_expm1(y: np.ndarray) -> np.ndarray:
    """Return ``sign(y) * (exp(|y|) - 1)``, the inverse of :func:`signed_log1p`."""
    y = np.asarray(y, dtype=np.float64)
    return np.sign(y) * (np.exp(np.abs(y)) - 1.0)


@dataclass(frozen=True)
class ColumnTransform:
    """Fitted transform parameters of one feature.

    Parameters
    ----------
    feature : str
        Column name.
    impute_value : float
        Training median of the raw values, replacing nulls.
    log_transform : bool
        Whether the signed ``log1p`` is applied.
    clip_low, clip_high : float
        Winsorizing bounds, in the (possibly logged) space.
    center, scale : float
        Affine scaling; 0 and 1 for the quantile scaler.
    quantile_knots : tuple of float or None
        Strictly increasing knots of the quantile scaler, else None.
    """

    feature: str
    impute_value: float
    log_transform: bool
    clip_low: float
    clip_high: float
    center: float
    scale: float
    quantile_knots: tuple[float, ...] | None = None

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Transform raw values (NaN meaning null) to the scaled space."""
        x = np.asarray(values, dtype=np.float64)
        x = np.where(np.isnan(x), self.impute_value, x)
        if self.log_transform:
            x = signed_log1p(x)
        x = np.minimum(np.maximum(x, self.clip_low), self.clip_high)
        if self.quantile_knots is not None:
            knots = np.asarray(self.quantile_knots, dtype=np.float64)
            return np.interp(x, knots, np.linspace(0.0, 1.0, knots.size))
        return (x - self.center) / self.scale

    def invert(self, scaled: np.ndarray) -> np.ndarray:
        """Map scaled values back to original units (clipping is not undone)."""
        z = np.asarray(scaled, dtype=np.float64)
        if self.quantile_knots is not None:
            knots = np.asarray(self.quantile_knots, dtype=np.float64)
            x = np.interp(z, np.linspace(0.0, 1.0, knots.size), knots)
        else:
            x = z * self.scale + self.center
        if self.log_transform:
            x = signed_expm1(x)
        return x

    def to_record(self, position: int) -> dict[str, Any]:
        """Return the registry record of this feature at ``position``."""
        return {
            "feature": self.feature,
            "position": int(position),
            "impute_value": float(self.impute_value),
            "log_transform": bool(self.log_transform),
            "clip_low": float(self.clip_low),
            "clip_high": float(self.clip_high),
            "center": float(self.center),
            "scale": float(self.scale),
            "quantile_knots": (
                None
                if self.quantile_knots is None
                else [float(k) for k in self.quantile_knots]
            ),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ColumnTransform:
        """Rebuild the transform from a registry record."""
        knots = record.get("quantile_knots")
        return cls(
            feature=str(record["feature"]),
            impute_value=float(record["impute_value"]),
            log_transform=bool(record["log_transform"]),
            clip_low=float(record["clip_low"]),
            clip_high=float(record["clip_high"]),
            center=float(record["center"]),
            scale=float(record["scale"]),
            quantile_knots=None if knots is None else tuple(float(k) for k in knots),
        )


def apply_column_transforms(
    transforms: Sequence[ColumnTransform], columns: Sequence[np.ndarray]
) -> np.ndarray:
    """Transform raw columns (one per transform, same order) to a matrix.

    Parameters
    ----------
    transforms : sequence of ColumnTransform
        Fitted transforms, in column order.
    columns : sequence of ndarray
        Raw values of the matching features, NaN meaning null.

    Returns
    -------
    ndarray of shape (n_rows, len(transforms))
    """
    if len(transforms) != len(columns):
        raise ValueError(f"expected {len(transforms)} columns, got {len(columns)}")
    n_rows = len(columns[0]) if columns else 0
    out = np.empty((n_rows, len(transforms)), dtype=np.float64)
    for j, (transform, column) in enumerate(zip(transforms, columns, strict=True)):
        out[:, j] = transform.apply(column)
    return out


def reference_distribution(
    values: np.ndarray, n_bins: int = REFERENCE_BINS
) -> tuple[list[float], list[float]]:
    """Quantile bins of ``values`` for later drift (PSI) checks.

    Bin ``i`` holds ``edges[i] <= x < edges[i + 1]``; the last bin also holds
    ``x == edges[-1]``. Edges are the deduplicated ``n_bins``-quantiles, so
    there may be fewer than ``n_bins`` bins; shares sum to 1. When new data
    are binned, values below the first or above the last edge belong to the
    first or last bin.

    Parameters
    ----------
    values : ndarray
        Finite values in original units.
    n_bins : int
        Number of quantile bins before deduplication.

    Returns
    -------
    edges : list of float
    shares : list of float
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return [], []
    edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, n_bins + 1)))
    if edges.size == 1:
        return [float(edges[0]), float(edges[0])], [1.0]
    bins = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    counts = np.bincount(bins, minlength=edges.size - 1)
    shares = counts / counts.sum()
    return [float(e) for e in edges], [float(s) for s in shares]


class FeatureTransformer(TransformerMixin, BaseEstimator):
    """Impute, log, winsorize and scale features, dropping useless ones.

    The fitted parameters are exported with :meth:`to_records` and applied
    in SQL, so :meth:`transform` implements exactly the four steps of the
    module docstring. Features are dropped, in this order, when they are
    entirely null (``'all null'``), constant after winsorizing
    (``'constant'``), or when their absolute Pearson correlation with an
    earlier kept feature on the transformed training data exceeds
    ``correlation_threshold`` (``'correlated with <f> (r=0.95)'``).

    Parameters
    ----------
    features : sequence of str
        Names of the input columns, in the column order of ``X``.
    log_transform : {"auto", "all", "none"} or sequence of str, default="auto"
        ``"all"`` logs every feature; ``"auto"`` logs features whose training skewness (non-null values)
        exceeds ``skew_threshold``; a sequence names the features to log.
    skew_threshold : float, default=1.0
        Skewness threshold used by ``"auto"``.
    winsorize_percentiles : (float, float), default=(0.01, 0.99)
        Training percentiles, taken after the log step, to clip at.
    scaler : {"robust", "standard", "quantile"}, default="robust"
        Scaling of the clipped values.
    quantile_knots : int, default=101
        Number of quantiles for the quantile scaler (before deduplication).
    correlation_threshold : float, default=0.9
        Absolute correlation above which the later feature of a pair is
        dropped; 1.0 keeps all.

    Attributes
    ----------
    features_used_ : list of str
        Kept features, in input order; the columns of :meth:`transform`.
    features_dropped_ : list of (str, str)
        Dropped features with the reason.
    transforms_ : list of ColumnTransform
        Parameters of the used features, in column order.
    skewness_ : dict of str to float
        Training skewness of each non-null feature.
    correlation_ : ndarray
        Correlation matrix of the non-constant features before dropping.
    n_features_in_ : int
        Number of input columns.
    """

    def __init__(
        self,
        features: Sequence[str],
        log_transform: str | Sequence[str] = "auto",
        skew_threshold: float = 1.0,
        winsorize_percentiles: Sequence[float] = (0.01, 0.99),
        scaler: str = "robust",
        quantile_knots: int = 101,
        correlation_threshold: float = 0.9,
    ) -> None:
        self.features = features
        self.log_transform = log_transform
        self.skew_threshold = skew_threshold
        self.winsorize_percentiles = winsorize_percentiles
        self.scaler = scaler
        self.quantile_knots = quantile_knots
        self.correlation_threshold = correlation_threshold

    def _check_input(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.features):
            raise ValueError(
                f"expected a 2-D array with {len(self.features)} columns "
                f"({', '.join(self.features)}), got shape {X.shape}"
            )
        return X

    def _wants_log(self, feature: str, finite_values: np.ndarray) -> tuple[bool, float]:
        value = float("nan")
        if finite_values.size > 2 and np.ptp(finite_values) > 0:
            with warnings.catch_warnings():  # near-constant data: imprecise moments
                warnings.simplefilter("ignore", RuntimeWarning)
                value = float(skew(finite_values))
        if isinstance(self.log_transform, str):
            if self.log_transform == "auto":
                return bool(np.isfinite(value) and value > self.skew_threshold), value
            if self.log_transform == "none":
                return False, value
            if self.log_transform == "all":
                return True, value
            raise ValueError(f"unknown log_transform {self.log_transform!r}")
        return feature in set(self.log_transform), value

    def _fit_column(
        self, feature: str, raw: np.ndarray
    ) -> tuple[ColumnTransform | None, str | None, float]:
        finite = np.isfinite(raw)
        if not finite.any():
            reason = "all null" if np.isnan(raw).all() else "no finite values"
            return None, reason, float("nan")
        impute_value = float(np.median(raw[finite]))
        x = np.where(np.isnan(raw), impute_value, raw)
        use_log, skewness = self._wants_log(feature, raw[finite])
        if use_log:
            x = signed_log1p(x)
        low_p, high_p = self.winsorize_percentiles
        clip_low, clip_high = (
            float(v) for v in np.quantile(x[np.isfinite(x)], [low_p, high_p])
        )
        if not clip_high > clip_low:
            return None, "constant", skewness
        x = np.minimum(np.maximum(x, clip_low), clip_high)
        knots: tuple[float, ...] | None = None
        if self.scaler == "robust":
            q01, q25, center, q75, q99 = np.quantile(x, [0.01, 0.25, 0.5, 0.75, 0.99])
            scale = float(max(q75 - q25, (q99 - q01) / RANGE_TO_IQR))
        elif self.scaler == "standard":
            center, scale = float(np.mean(x)), float(np.std(x))
        elif self.scaler == "quantile":
            grid = np.linspace(0.0, 1.0, int(self.quantile_knots))
            knots = tuple(float(k) for k in np.unique(np.quantile(x, grid)))
            center, scale = 0.0, 1.0
        else:
            raise ValueError(f"unknown scaler {self.scaler!r}")
        if not (np.isfinite(scale) and scale > 0.0):
            logger.info(
                "feature %s has zero spread for scaling; scale set to 1", feature
            )
            scale = 1.0
        transform = ColumnTransform(
            feature=feature,
            impute_value=impute_value,
            log_transform=use_log,
            clip_low=clip_low,
            clip_high=clip_high,
            center=float(center),
            scale=float(scale),
            quantile_knots=knots,
        )
        return transform, None, skewness

    def fit(self, X: np.ndarray, y: Any = None) -> FeatureTransformer:
        """Learn the transform parameters from training data.

        Parameters
        ----------
        X : array-like of shape (n_rows, len(features))
            Raw feature values; NaN means null.
        y : ignored

        Returns
        -------
        self
        """
        X = self._check_input(X)
        if X.shape[0] == 0:
            raise ValueError("cannot fit the feature transform on zero rows")
        dropped: list[tuple[str, str]] = []
        kept: list[ColumnTransform] = []
        scaled: list[np.ndarray] = []
        self.skewness_ = {}
        for j, feature in enumerate(self.features):
            transform, reason, skewness = self._fit_column(feature, X[:, j])
            if np.isfinite(skewness):
                self.skewness_[feature] = skewness
            if transform is None:
                dropped.append((feature, str(reason)))
                continue
            kept.append(transform)
            scaled.append(transform.apply(X[:, j]))
        keep = [True] * len(kept)
        if len(kept) >= 2:
            matrix = np.column_stack(scaled)
            with np.errstate(invalid="ignore", divide="ignore"):
                corr = np.corrcoef(matrix, rowvar=False)
            self.correlation_ = corr
            for j in range(1, len(kept)):
                for i in range(j):
                    r = corr[i, j]
                    if (
                        keep[i]
                        and np.isfinite(r)
                        and abs(r) > self.correlation_threshold
                    ):
                        keep[j] = False
                        dropped.append(
                            (
                                kept[j].feature,
                                f"correlated with {kept[i].feature} (r={r:.2f})",
                            )
                        )
                        break
        else:
            self.correlation_ = np.ones((len(kept), len(kept)))
        self.transforms_ = [t for t, k in zip(kept, keep, strict=True) if k]
        self.features_used_ = [t.feature for t in self.transforms_]
        order = {name: i for i, name in enumerate(self.features)}
        self.features_dropped_ = sorted(dropped, key=lambda item: order[item[0]])
        self.n_features_in_ = len(self.features)
        for feature, reason in self.features_dropped_:
            logger.info("feature %s dropped: %s", feature, reason)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Apply the fitted transform.

        Parameters
        ----------
        X : array-like of shape (n_rows, len(features))
            Raw feature values in the column order of ``features``.

        Returns
        -------
        ndarray of shape (n_rows, len(features_used_))
        """
        check_is_fitted(self, "transforms_")
        X = self._check_input(X)
        index = {name: j for j, name in enumerate(self.features)}
        columns = [X[:, index[t.feature]] for t in self.transforms_]
        if not columns:
            return np.empty((X.shape[0], 0), dtype=np.float64)
        return apply_column_transforms(self.transforms_, columns)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        """Map scaled values back to original units of the used features.

        The scaling and the log step are undone; clipping is not.

        Parameters
        ----------
        X : array-like of shape (n_rows, len(features_used_))

        Returns
        -------
        ndarray of shape (n_rows, len(features_used_))
        """
        check_is_fitted(self, "transforms_")
        Z = np.asarray(X, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != len(self.transforms_):
            raise ValueError(
                f"expected {len(self.transforms_)} columns, got shape {Z.shape}"
            )
        out = np.empty_like(Z)
        for j, transform in enumerate(self.transforms_):
            out[:, j] = transform.invert(Z[:, j])
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (the used features)."""
        check_is_fitted(self, "transforms_")
        return np.asarray(self.features_used_, dtype=object)

    def to_records(self) -> list[dict[str, Any]]:
        """Export the parameters of the used features, in column order.

        Returns
        -------
        list of dict
            One dict per used feature with keys ``feature``, ``position``
            (0-based column), ``impute_value``, ``log_transform``,
            ``clip_low``, ``clip_high``, ``center``, ``scale`` and
            ``quantile_knots`` (list, or None unless the quantile scaler is
            used).
        """
        check_is_fitted(self, "transforms_")
        return [t.to_record(i) for i, t in enumerate(self.transforms_)]
