"""Validation of the ``segmentation`` settings."""

from __future__ import annotations

import json

import pytest
from segmentation import ConfigError, SegmentationConfig


def test_defaults_match_the_documented_settings() -> None:
    config = SegmentationConfig.from_dict(None)
    settings = config.to_dict()
    assert settings["features"][0] == "recency_days"
    assert len(settings["features"]) == 5
    assert settings["log_transform"] == "all"
    assert settings["algorithms"] == [
        "kmeans",
        "agglomerative",
        "gaussian_mixture",
        "hdbscan",
    ]
    assert (settings["k_min"], settings["k_max"]) == (4, 8)
    assert (settings["stability_floor"], settings["k_tolerance"]) == (0.8, 0.02)
    assert settings["winsorize_percentiles"] == [0.01, 0.99]
    assert settings["scaler"] == "robust"
    assert settings["pca_components"] is None
    assert settings["sample_size"] == 5000
    assert settings["random_state"] == 42
    assert SegmentationConfig.from_dict({}) == config


def test_to_dict_is_json_and_round_trips() -> None:
    config = SegmentationConfig.from_dict(
        {"log_transform": ["monetary"], "pca_components": 0.9, "k_max": 5}
    )
    text = json.dumps(config.to_dict())
    again = SegmentationConfig.from_dict(json.loads(text))
    assert again == config
    assert again.to_dict()["log_transform"] == ["monetary"]


def test_settings_are_merged_over_the_defaults() -> None:
    config = SegmentationConfig.from_dict({"k_min": 4, "scaler": "quantile"})
    assert config.k_min == 4
    assert config.scaler == "quantile"
    assert config.k_max == 8


@pytest.mark.parametrize(
    ("settings", "setting", "fragment"),
    [
        ({"k_min": 1}, "k_min", "1"),
        ({"k_min": 9}, "k_min", "segmentation.k_max (8)"),
        ({"k_max": "8"}, "k_max", "'8'"),
        ({"k_min": True}, "k_min", "True"),
        ({"scaler": "minmax"}, "scaler", "'robust', 'standard', 'quantile'"),
        ({"winsorize_percentiles": [0.9, 0.1]}, "winsorize_percentiles", "low < high"),
        ({"winsorize_percentiles": [0.0, 1.5]}, "winsorize_percentiles", "1.5"),
        ({"algorithms": ["kmeans", "spectral"]}, "algorithms", "'hdbscan'"),
        ({"algorithms": []}, "algorithms", "non-empty"),
        ({"pca_components": 1.5}, "pca_components", "1.5"),
        ({"pca_components": 0}, "pca_components", "integer >= 1"),
        ({"pca_components": 6}, "pca_components", "number of features (5)"),
        ({"correlation_threshold": 0}, "correlation_threshold", "(0.0, 1.0]"),
        ({"features": []}, "features", "non-empty list"),
        ({"features": ["a", "a"]}, "features", "repeated: a"),
        ({"features": ["customer_id"]}, "features", "customer_id"),
        ({"log_transform": ["nope"]}, "log_transform", "unknown: nope"),
        ({"log_transform": "always"}, "log_transform", "'auto', 'all', 'none'"),
        ({"min_segment_share": 0.5}, "min_segment_share", "k_min (4)"),
        ({"stability_floor": 1.2}, "stability_floor", "1.2"),
        ({"bootstrap_samples": -1}, "bootstrap_samples", "-1"),
        ({"sample_size": 10}, "sample_size", ">= 50"),
        ({"selection_metric": "inertia"}, "selection_metric", "'silhouette'"),
        ({"random_state": None}, "random_state", "None"),
        ({"n_init": 0}, "n_init", "0"),
        ({"quantile_knots": 1}, "quantile_knots", ">= 2"),
        ({"skew_threshold": float("nan")}, "skew_threshold", "nan"),
    ],
)
def test_bad_settings_name_the_setting(
    settings: dict, setting: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        SegmentationConfig.from_dict(settings)
    message = str(raised.value)
    assert message.startswith(f"segmentation.{setting}:"), message
    assert fragment in message
    assert "allowed" in message


def test_unknown_keys_list_the_allowed_settings() -> None:
    with pytest.raises(ConfigError) as raised:
        SegmentationConfig.from_dict({"n_clusters": 4, "k_min": 3})
    message = str(raised.value)
    assert message.startswith("segmentation.n_clusters: unknown setting")
    for name in SegmentationConfig.setting_names():
        assert name in message


def test_non_mapping_is_rejected() -> None:
    with pytest.raises(ConfigError, match="segmentation: got"):
        SegmentationConfig.from_dict(["k_min", 3])  # type: ignore[arg-type]


def test_direct_construction_validates_too() -> None:
    with pytest.raises(ConfigError, match=r"^segmentation\.n_init"):
        SegmentationConfig(n_init=0)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)
