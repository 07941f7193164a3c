"""The clustering settings: their rules in Jinja, their record in Python.

The rules live in one place, the macro ``segmentation_settings_problem``
(run by the on-run-start hook ``validate_settings``); the Python
``SegmentationConfig`` is a typed record that checks no rule. One
``dbt compile --inline`` (the ``jinja`` fixture) feeds the macros every bad
value below and prints the settings a dbt build hands to Python (the model
int_segmentation_settings renders ``segmentation_settings()``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from pipeline import dbt_command, dbt_environment, run_command
from segmentation import ConfigError, SegmentationConfig

# (settings, the setting the message must start with, a fragment it must hold)
BAD_SETTINGS = [
    ({"k_min": 1}, "k_min", "an integer >= 2"),
    ({"k_min": 9}, "k_min", "segmentation.k_max (8)"),
    ({"k_min": 5, "k_max": 4}, "k_min", "segmentation.k_max (4)"),
    ({"k_min": 3.0}, "k_min", "an integer >= 2"),
    ({"k_max": "8"}, "k_max", 'got "8"'),
    ({"k_max": True}, "k_max", "got true"),
    ({"scaler": "minmax"}, "scaler", "'robust', 'standard', 'quantile'"),
    ({"winsorize_percentiles": [0.9, 0.1]}, "winsorize_percentiles", "low < high"),
    ({"winsorize_percentiles": [0.0, 1.5]}, "winsorize_percentiles", "1.5"),
    ({"winsorize_percentiles": [0.01]}, "winsorize_percentiles", "two numbers"),
    ({"algorithms": ["kmeans", "spectral"]}, "algorithms", "'hdbscan'"),
    ({"algorithms": []}, "algorithms", "non-empty"),
    ({"pca_components": 1.5}, "pca_components", "1.5"),
    ({"pca_components": 0}, "pca_components", "an integer >= 1"),
    ({"pca_components": 6}, "pca_components", "number of features (5)"),
    ({"correlation_threshold": 0}, "correlation_threshold", "(0.0, 1.0]"),
    ({"features": []}, "features", "non-empty list"),
    ({"features": ["a", "a"]}, "features", "repeated: a"),
    ({"features": ["customer_id"]}, "features", "customer_id is the key"),
    ({"features": ["monetary", "country"]}, "features", "country is not a numeric"),
    ({"log_transform": ["nope"]}, "log_transform", "unknown: nope"),
    ({"log_transform": "always"}, "log_transform", "'auto', 'all', 'none'"),
    ({"min_segment_share": 0.5}, "min_segment_share", "k_min (4)"),
    ({"min_segment_share": 1.5}, "min_segment_share", "[0.0, 1.0)"),
    ({"stability_floor": 1.2}, "stability_floor", "1.2"),
    ({"stability_floor": -0.1}, "stability_floor", "[0.0, 1.0]"),
    ({"jaccard_unstable_below": 2}, "jaccard_unstable_below", "[0.0, 1.0]"),
    ({"bootstrap_samples": -1}, "bootstrap_samples", "-1"),
    ({"bootstrap_samples": 5000}, "bootstrap_samples", "<= 1000"),
    ({"sample_size": 10}, "sample_size", ">= 50"),
    ({"minibatch_threshold": 0}, "minibatch_threshold", ">= 1"),
    ({"selection_metric": "inertia"}, "selection_metric", "'silhouette'"),
    ({"random_state": None}, "random_state", "got null"),
    ({"random_state": -1}, "random_state", "<= 4294967295"),
    ({"n_init": 0}, "n_init", "<= 100"),
    ({"quantile_knots": 1}, "quantile_knots", ">= 2"),
    ({"skew_threshold": float("nan")}, "skew_threshold", "a number in"),
    ({"skew_threshold": "high"}, "skew_threshold", 'got "high"'),
]
GOOD_SETTINGS = [
    None,
    {},
    {"algorithms": ["kmeans"], "k_min": 3, "k_max": 4, "bootstrap_samples": 0},
    {"log_transform": [], "pca_components": 0.9, "scaler": "quantile"},
]
# ratio_prior_orders: (value, is it valid)
RATIO_PRIOR_ORDERS = [
    (2, True),
    (0, True),
    (0.5, True),
    (-1, False),
    ("2", False),
    (None, False),
    (True, False),
    (float("nan"), False),
]
MARKER = "@@"


def _inline_template() -> str:
    """Jinja printing every case's problem, then the defaults, split by MARKER."""

    def quoted(value: object) -> str:
        return "'" + json.dumps(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    settings = [s for s, _, _ in BAD_SETTINGS] + [
        *GOOD_SETTINGS,
        "kmeans",
        {"k_minimum": 3, "k_min": 3},
    ]
    ratios = [value for value, _ in RATIO_PRIOR_ORDERS]
    return (
        "{% for s in fromjson(" + quoted(settings) + ") %}"
        "{{ segmentation_settings_problem(s) }}" + MARKER + "{% endfor %}"
        "{% for r in fromjson(" + quoted(ratios) + ") %}"
        "{{ _feature_settings_problem(r) }}" + MARKER + "{% endfor %}"
        "{{ tojson(segmentation_settings({})) }}" + MARKER + ""
        "{{ tojson(segmentation_settings()) }}"
    )


@pytest.fixture(scope="module")
def jinja(tmp_path_factory: pytest.TempPathFactory, generated_variables: dict) -> dict:
    """One dbt compile: the macros' answers, the defaults, the build's settings.

    With the vars of the shared default build (no segmentation setting), so
    it starts from the session's parse of those vars instead of parsing the
    project again."""
    workdir: Path = tmp_path_factory.mktemp("settings")
    # run as pipeline.dbt runs a build: in the folder, DUCKDB_PATH relative
    done = run_command(
        dbt_command(
            "compile",
            workdir,
            generated_variables,
            args=["--quiet", "--inline", _inline_template()],
        ),
        cwd=workdir,
        env=dbt_environment(workdir, {"DUCKDB_PATH": "warehouse.duckdb"}),
        check=True,
    )
    parts = done.stdout.strip().split(MARKER)
    n_settings = len(BAD_SETTINGS) + len(GOOD_SETTINGS) + 2
    assert len(parts) == n_settings + len(RATIO_PRIOR_ORDERS) + 2, done.stdout
    return {
        "settings": [p.strip() for p in parts[:n_settings]],
        "ratios": [p.strip() for p in parts[n_settings:-2]],
        "defaults": json.loads(parts[-2]),
        "build_settings": json.loads(parts[-1]),
    }


@pytest.mark.parametrize(
    ("index", "setting", "fragment"),
    [(i, setting, fragment) for i, (_, setting, fragment) in enumerate(BAD_SETTINGS)],
    ids=[json.dumps(s) for s, _, _ in BAD_SETTINGS],
)
def test_a_bad_setting_is_named_with_what_is_allowed(
    jinja: dict, index: int, setting: str, fragment: str
) -> None:
    message = jinja["settings"][index]
    assert message.startswith(f"segmentation.{setting}: "), message
    assert fragment in message, message
    assert "allowed" in message, message


def test_good_settings_have_no_problem(jinja: dict) -> None:
    start = len(BAD_SETTINGS)
    assert jinja["settings"][start : start + len(GOOD_SETTINGS)] == [""] * len(
        GOOD_SETTINGS
    )


def test_not_a_mapping_and_unknown_keys_are_named(jinja: dict) -> None:
    not_mapping, unknown = jinja["settings"][-2:]
    assert not_mapping.startswith('segmentation: got "kmeans"; allowed: a mapping')
    assert unknown.startswith("segmentation.k_minimum: unknown setting")
    for name in SegmentationConfig.setting_names():
        assert name in unknown


@pytest.mark.parametrize(
    ("index", "valid"),
    [(i, valid) for i, (_, valid) in enumerate(RATIO_PRIOR_ORDERS)],
    ids=[repr(value) for value, _ in RATIO_PRIOR_ORDERS],
)
def test_ratio_prior_orders_must_be_a_non_negative_number(
    jinja: dict, index: int, valid: bool
) -> None:
    message = jinja["ratios"][index]
    if valid:
        assert message == ""
    else:
        assert message.startswith("the dbt var ratio_prior_orders is "), message
        assert "a number >= 0" in message


def test_jinja_defaults_are_the_package_defaults(jinja: dict) -> None:
    assert jinja["defaults"] == SegmentationConfig().to_dict()


def test_the_python_model_gets_every_setting_defaulted(jinja: dict) -> None:
    """A build hands Python the settings in full (the project's var over the
    Jinja defaults), and they equal the package's library defaults."""
    settings = jinja["build_settings"]
    assert list(settings) == list(SegmentationConfig.setting_names())
    assert settings == SegmentationConfig().to_dict()
    assert SegmentationConfig.from_dict(settings) == SegmentationConfig()


# --- the Python record -------------------------------------------------------


def test_the_record_converts_types_and_round_trips() -> None:
    config = SegmentationConfig.from_dict(
        {
            "features": ["monetary", "frequency"],
            "log_transform": ["monetary"],
            "winsorize_percentiles": [0, 1],
            "skew_threshold": 2,
            "k_max": 5,
        }
    )
    assert config.features == ("monetary", "frequency")
    assert config.log_transform == ("monetary",)
    assert config.winsorize_percentiles == (0.0, 1.0)
    assert isinstance(config.skew_threshold, float)
    assert config.k_max == 5 and config.k_min == 4
    hash(config)
    again = SegmentationConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert again.to_dict()["log_transform"] == ["monetary"]


def test_an_empty_log_transform_list_means_none() -> None:
    assert SegmentationConfig(log_transform=[]).log_transform == "none"


def test_the_record_checks_no_setting_rule() -> None:
    # the rules are the Jinja macro's; a direct Python caller gets what it asks
    config = SegmentationConfig(n_init=0, k_min=9, skew_threshold=math.inf)
    assert (config.n_init, config.k_min, config.k_max) == (0, 9, 8)


def test_unknown_keys_and_non_mappings_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown setting.*n_clusters"):
        SegmentationConfig.from_dict({"n_clusters": 4, "k_min": 3})
    with pytest.raises(ConfigError, match="segmentation: got"):
        SegmentationConfig.from_dict(["k_min", 3])  # type: ignore[arg-type]
    assert SegmentationConfig.from_dict(None) == SegmentationConfig.from_dict({})
