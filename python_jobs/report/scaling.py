"""Customers in the model's scaled feature space, and a 2-D view of it.

:func:`scale_features` applies the transform kept in ``segment_centroids``
with the same formulas, in the same order, as the ``score_customers`` macro
that assigns segments in SQL, so the distances it gives match
``customer_segments.distance_to_centroid``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def _quantile_scale(values: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Piecewise-linear map through the knots onto [0, 1], as in the macro."""
    count = len(knots)
    # number of knots at or below each value (0 = below every knot)
    index = np.searchsorted(knots, values, side="right")
    inner = np.clip(index, 1, count - 1)
    low, high = knots[inner - 1], knots[inner]
    with np.errstate(divide="ignore", invalid="ignore"):
        position = (inner - 1 + (values - low) / (high - low)) / (count - 1)
    return np.where(index == 0, 0.0, np.where(index >= count, 1.0, position))


def scale_features(values: pd.DataFrame, transform: pd.DataFrame) -> np.ndarray:
    """Scale raw customer features with the model's transform.

    Parameters
    ----------
    values : DataFrame
        One column per feature of ``transform`` (raw units, nulls allowed).
    transform : DataFrame
        One row per feature: feature, impute_value, log_transform, clip_low,
        clip_high, center, scale, quantile_knots (as in segment_centroids).

    Returns
    -------
    ndarray of shape (n_customers, n_features)
        The scaled features, in the row order of ``transform``.
    """
    columns = []
    for step in transform.itertuples(index=False):
        x = values[step.feature].to_numpy(dtype=float, na_value=np.nan)
        x = np.where(np.isnan(x), step.impute_value, x)
        if step.log_transform:
            x = np.sign(x) * np.log1p(np.abs(x))
        x = np.minimum(np.maximum(x, step.clip_low), step.clip_high)
        knots = step.quantile_knots
        if knots is None or (
            not isinstance(knots, list | np.ndarray) and pd.isna(knots)
        ):
            x = (x - step.center) / step.scale
        else:
            x = _quantile_scale(x, np.asarray(knots, dtype=float))
        columns.append(x)
    return np.column_stack(columns)


def centroid_matrix(centroids: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Centroids as a segment x feature frame in the given feature order."""
    wide = centroids.pivot(
        index="segment_id", columns="feature", values="centroid_scaled"
    )
    return wide[features]


@dataclass
class Projection:
    """A 2-D principal component projection fitted on customers."""

    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Project rows of X (same features as the fit) onto the components."""
        return (np.asarray(X, dtype=float) - self.mean) @ self.components.T


def fit_pca(X: np.ndarray, n_components: int = 2) -> Projection:
    """Principal components of X by singular value decomposition.

    The sign of each component is fixed (largest loading positive) so the
    picture does not flip between runs.
    """
    X = np.asarray(X, dtype=float)
    mean = X.mean(axis=0)
    _, singular_values, vt = np.linalg.svd(X - mean, full_matrices=False)
    components = vt[:n_components]
    signs = np.sign(
        components[np.arange(len(components)), np.abs(components).argmax(axis=1)]
    )
    components = components * signs[:, None]
    variance = singular_values**2
    total = variance.sum()
    ratio = variance[:n_components] / total if total > 0 else np.zeros(n_components)
    return Projection(mean=mean, components=components, explained_variance_ratio=ratio)
