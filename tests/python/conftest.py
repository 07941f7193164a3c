"""Shared fixtures of the Python tests.

Puts ``python_jobs/`` on ``sys.path`` so the packages there (such as
``segmentation``) import as they do inside the dbt Python models.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

PYTHON_JOBS = Path(__file__).resolve().parents[2] / "python_jobs"
if str(PYTHON_JOBS) not in sys.path:
    sys.path.insert(0, str(PYTHON_JOBS))

SEGMENTATION_FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "items_per_order",
    "distinct_products",
    "return_rate",
    "mean_days_between_orders",
    "weekend_order_share",
    "tenure_days",
)


def _table_from_matrix(
    X: np.ndarray, features: tuple[str, ...], ids: list[str] | None = None
) -> pa.Table:
    if ids is None:
        ids = [f"C{i:06d}" for i in range(X.shape[0])]
    columns: dict[str, pa.Array] = {"customer_id": pa.array(ids, type=pa.string())}
    for j, name in enumerate(features):
        columns[name] = pa.array(X[:, j], type=pa.float64(), from_pandas=True)
    return pa.table(columns)


@pytest.fixture(scope="session")
def segmentation_table_from_matrix() -> Callable[..., pa.Table]:
    """Build a customer table (customer_id + features) from a matrix.

    NaN values become nulls. Features default to the default feature names.
    """

    def build(
        X: np.ndarray,
        features: tuple[str, ...] = SEGMENTATION_FEATURES,
        ids: list[str] | None = None,
    ) -> pa.Table:
        return _table_from_matrix(np.asarray(X, dtype=np.float64), features, ids)

    return build


@pytest.fixture(scope="session")
def segmentation_blobs() -> tuple[pa.Table, np.ndarray]:
    """2000 customers in 4 well-separated blobs over the default features.

    Returns the table (ids in shuffled order) and the true blob of each row.
    """
    from sklearn.datasets import make_blobs

    X, truth = make_blobs(
        n_samples=2000,
        centers=4,
        n_features=len(SEGMENTATION_FEATURES),
        cluster_std=1.0,
        center_box=(-10.0, 10.0),
        random_state=7,
    )
    rng = np.random.default_rng(7)
    ids = [f"C{i:06d}" for i in rng.permutation(X.shape[0])]
    return _table_from_matrix(X, SEGMENTATION_FEATURES, ids), truth


@pytest.fixture(scope="session")
def segmentation_customers() -> pa.Table:
    """3000 synthetic retail customers with skewed, partly null features."""
    rng = np.random.default_rng(11)
    n = 3000
    frequency = (
        1 + rng.geometric(0.35, n) - 1 + (rng.random(n) < 0.1) * rng.poisson(8, n)
    )
    order_value = rng.lognormal(5.5, 0.8, n)
    items = rng.lognormal(3.0, 0.9, n)
    returns = np.where(rng.random(n) < 0.3, rng.beta(1, 8, n), 0.0)
    gross = frequency * order_value
    monetary = gross * (1 - returns) - np.where(rng.random(n) < 0.01, 1.5 * gross, 0)
    recency = rng.integers(1, 700, n).astype(float)
    tenure = recency + rng.integers(0, 500, n) * (frequency > 1)
    between = np.where(
        frequency > 1, (tenure - recency) / np.maximum(frequency - 1, 1), np.nan
    )
    distinct = np.maximum(1, (frequency * items * rng.uniform(0.05, 0.3, n)).round())
    weekend = rng.binomial(frequency, 0.15) / frequency
    X = np.column_stack(
        [
            recency,
            frequency,
            monetary.round(2),
            order_value.round(2),
            items.round(2),
            distinct,
            returns.round(4),
            between,
            weekend.round(4),
            tenure,
        ]
    )
    return _table_from_matrix(X, SEGMENTATION_FEATURES)
