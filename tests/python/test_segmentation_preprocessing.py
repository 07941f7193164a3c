"""The exported feature transform: formulas, round trip, dropped features."""

from __future__ import annotations

import math

import numpy as np
import pytest
from segmentation import ColumnTransform, FeatureTransformer
from segmentation.preprocessing import reference_distribution
from sklearn.base import clone


def _by_hand(value: float | None, record: dict) -> float:
    """Steps 1-4 of the SQL scoring, written with plain Python math."""
    x = record["impute_value"] if value is None or math.isnan(value) else value
    if record["log_transform"]:
        x = math.copysign(1.0, x) * math.log(1.0 + abs(x)) if x != 0 else 0.0
    x = min(max(x, record["clip_low"]), record["clip_high"])
    knots = record["quantile_knots"]
    if knots is None:
        return (x - record["center"]) / record["scale"]
    # piecewise-linear map through the knots onto i / (n - 1)
    if x <= knots[0]:
        return 0.0
    if x >= knots[-1]:
        return 1.0
    i = max(j for j in range(len(knots) - 1) if knots[j] <= x)
    share = (x - knots[i]) / (knots[i + 1] - knots[i])
    return (i + share) / (len(knots) - 1)


def _training_matrix(seed: int = 0, n: int = 4000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    skewed = rng.lognormal(4.0, 1.2, n)
    skewed[rng.random(n) < 0.03] *= -1  # net amounts can be negative
    symmetric = rng.normal(50.0, 10.0, n)
    with_nulls = rng.exponential(30.0, n)
    with_nulls[rng.random(n) < 0.2] = np.nan
    return np.column_stack([skewed, symmetric, with_nulls])


FEATURES = ["monetary", "weekend_order_share", "mean_days_between_orders"]


@pytest.mark.parametrize("scaler", ["robust", "standard", "quantile"])
def test_transform_matches_the_sql_formula_by_hand(scaler: str) -> None:
    X = _training_matrix()
    transformer = FeatureTransformer(FEATURES, scaler=scaler, quantile_knots=51).fit(X)
    records = transformer.to_records()
    assert [r["feature"] for r in records] == FEATURES
    assert [r["position"] for r in records] == [0, 1, 2]
    probes = np.array(
        [
            [-2500.0, 20.0, np.nan],
            [0.0, 50.0, 0.0],
            [123.45, 61.5, 12.0],
            [1e7, 1e4, 1e5],
            [np.nan, np.nan, 45.5],
        ]
    )
    got = transformer.transform(probes)
    for i, row in enumerate(probes):
        for j, record in enumerate(records):
            value = None if np.isnan(row[j]) else float(row[j])
            assert got[i, j] == pytest.approx(_by_hand(value, record), abs=1e-12)


def test_exported_parameters_follow_the_training_data() -> None:
    X = _training_matrix()
    transformer = FeatureTransformer(FEATURES, winsorize_percentiles=(0.05, 0.95)).fit(
        X
    )
    money, share, between = transformer.to_records()
    assert money["log_transform"] is True  # lognormal: skewness far above 1
    assert share["log_transform"] is False  # normal: no skew
    assert between["impute_value"] == pytest.approx(np.nanmedian(X[:, 2]))
    logged = np.sign(X[:, 0]) * np.log1p(np.abs(X[:, 0]))
    assert money["clip_low"] == pytest.approx(np.quantile(logged, 0.05))
    assert money["clip_high"] == pytest.approx(np.quantile(logged, 0.95))
    clipped = np.clip(X[:, 1], share["clip_low"], share["clip_high"])
    q25, q50, q75 = np.quantile(clipped, [0.25, 0.5, 0.75])
    assert share["center"] == pytest.approx(q50)
    assert share["scale"] == pytest.approx(q75 - q25)
    assert money["quantile_knots"] is None


def test_quantile_scaler_exports_knots_and_unit_affine() -> None:
    X = _training_matrix()
    transformer = FeatureTransformer(FEATURES, scaler="quantile").fit(X)
    scaled = transformer.transform(X)
    for record in transformer.to_records():
        knots = np.asarray(record["quantile_knots"])
        assert (record["center"], record["scale"]) == (0.0, 1.0)
        assert np.all(np.diff(knots) > 0)
        assert 2 <= knots.size <= 101
    assert scaled.min() >= 0.0
    assert scaled.max() <= 1.0


@pytest.mark.parametrize("scaler", ["robust", "standard", "quantile"])
def test_inverse_transform_round_trips_inside_the_clip_range(scaler: str) -> None:
    X = _training_matrix()
    transformer = FeatureTransformer(
        FEATURES, scaler=scaler, log_transform=["monetary"]
    ).fit(X)
    records = transformer.to_records()
    rng = np.random.default_rng(3)
    inside = np.empty((200, len(records)))
    for j, record in enumerate(records):
        low, high = record["clip_low"], record["clip_high"]
        values = rng.uniform(low, high, 200)
        if record["log_transform"]:  # back to original units
            values = np.sign(values) * np.expm1(np.abs(values))
        inside[:, j] = values
    back = transformer.inverse_transform(transformer.transform(inside))
    np.testing.assert_allclose(back, inside, rtol=1e-9, atol=1e-9)


def test_clipping_is_not_undone() -> None:
    X = _training_matrix()
    transformer = FeatureTransformer(FEATURES, log_transform="none").fit(X)
    record = transformer.to_records()[1]
    far = np.array([[0.0, 1e6, 1.0]])
    back = transformer.inverse_transform(transformer.transform(far))
    assert back[0, 1] == pytest.approx(record["clip_high"])


def test_robust_scale_is_floored_for_mostly_zero_features() -> None:
    from segmentation.preprocessing import RANGE_TO_IQR

    rng = np.random.default_rng(0)
    mostly_zero = np.where(rng.random(1000) < 0.9, 0.0, rng.random(1000))
    X = np.column_stack([mostly_zero, rng.normal(size=1000)])
    transformer = FeatureTransformer(
        ["return_rate", "tenure_days"],
        log_transform="none",
        winsorize_percentiles=(0.0, 1.0),
    ).fit(X)
    mostly_zero_record, normal_record = transformer.to_records()
    assert mostly_zero_record["feature"] == "return_rate"
    # the IQR is 0: the scale is the range floor, so no value lands far away
    q01, q99 = np.quantile(mostly_zero, [0.01, 0.99])
    assert mostly_zero_record["scale"] == pytest.approx((q99 - q01) / RANGE_TO_IQR)
    scaled = transformer.transform(X)
    assert np.all(np.isfinite(scaled))
    assert np.abs(scaled[:, 0]).max() <= 4.0
    # for a normal feature the floor does not bite: the scale is the IQR
    q25, q75 = np.quantile(X[:, 1], [0.25, 0.75])
    assert normal_record["scale"] == pytest.approx(q75 - q25)


def test_useless_features_are_dropped_with_reasons() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    base = rng.normal(size=n)
    X = np.column_stack(
        [
            base,
            np.full(n, 7.0),  # constant
            np.full(n, np.nan),  # all null
            2.0 * base + rng.normal(scale=0.05, size=n),  # near copy of a
            rng.normal(size=n),
        ]
    )
    names = ["a", "const", "empty", "copy_of_a", "b"]
    transformer = FeatureTransformer(names, log_transform="none").fit(X)
    assert transformer.features_used_ == ["a", "b"]
    reasons = dict(transformer.features_dropped_)
    assert reasons["const"] == "constant"
    assert reasons["empty"] == "all null"
    assert reasons["copy_of_a"].startswith("correlated with a (r=")
    r = float(reasons["copy_of_a"].split("r=")[1].rstrip(")"))
    assert r > 0.9
    assert transformer.transform(X).shape == (n, 2)
    assert list(transformer.get_feature_names_out()) == ["a", "b"]


def test_correlation_threshold_one_keeps_correlated_features() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(size=500)
    X = np.column_stack([base, base * 3 + rng.normal(scale=0.01, size=500)])
    transformer = FeatureTransformer(
        ["a", "b"], log_transform="none", correlation_threshold=1.0
    ).fit(X)
    assert transformer.features_used_ == ["a", "b"]


def test_estimator_manners() -> None:
    transformer = FeatureTransformer(FEATURES, scaler="standard")
    params = transformer.get_params()
    assert params["features"] is FEATURES
    assert params["scaler"] == "standard"
    fitted = transformer.fit(_training_matrix())
    assert fitted is transformer
    assert not hasattr(clone(transformer), "transforms_")
    with pytest.raises(ValueError, match="3 columns"):
        transformer.transform(np.zeros((2, 2)))


def test_column_transform_record_round_trip() -> None:
    transform = ColumnTransform("x", 1.5, True, -1.0, 4.0, 0.5, 2.0, None)
    again = ColumnTransform.from_record(transform.to_record(0))
    assert again == transform
    assert transform.apply(np.array([np.nan]))[0] == pytest.approx(
        (math.log(2.5) - 0.5) / 2.0
    )


def test_reference_distribution_bins() -> None:
    rng = np.random.default_rng(5)
    edges, shares = reference_distribution(rng.exponential(size=5000))
    assert len(edges) == 11
    assert len(shares) == 10
    assert sum(shares) == pytest.approx(1.0)
    assert all(abs(s - 0.1) < 0.01 for s in shares)
    assert edges == sorted(edges)
    # many ties: edges deduplicated, shares still sum to 1
    edges, shares = reference_distribution(np.r_[np.zeros(900), np.arange(100)])
    assert len(edges) == len(set(edges))
    assert len(shares) == len(edges) - 1
    assert sum(shares) == pytest.approx(1.0)
    assert shares[0] >= 0.9
