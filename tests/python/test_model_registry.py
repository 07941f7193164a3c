"""The model registry across rebuilds on alternating data, and the fitted
model kept as flat tables.

One warehouse, four `dbt build --full-refresh` runs on two small generated
data sets, A, B, A, B: the third and fourth fit models already registered,
which must be reused (and recorded as used again), never appended twice.
Then drift is forced on the frozen model to see the health warning fire.
"""

from __future__ import annotations

import shutil

import pytest
from pipeline import dbt, generate_data

FAST_SEGMENTATION = {
    "algorithms": ["kmeans", "agglomerative"],
    "k_min": 3,
    "k_max": 5,
    "bootstrap_samples": 3,
}
HEALTH_TEST = "assert_model_does_not_need_retraining"


@pytest.fixture(scope="module")
def alternating(tmp_path_factory):
    base = tmp_path_factory.mktemp("alternating")
    raws = {
        "A": generate_data(base / "a", customers=500, seed=3),
        "B": generate_data(base / "b", customers=700, seed=9),
    }
    # one raw folder whose files are swapped, so that raw_transactions (and
    # with it dbt's vars) stays the same and dbt's partial parsing holds
    delivered = base / "delivered"
    work = base / "run"

    def build(data: str, mode: str = "retrain", monitoring: dict | None = None):
        shutil.rmtree(delivered, ignore_errors=True)
        shutil.copytree(raws[data], delivered)
        variables = {
            "raw_transactions": f"{delivered}/*.csv.gz",
            "segmentation": FAST_SEGMENTATION,
            "segmentation_mode": mode,
            **({"monitoring": monitoring} if monitoring else {}),
        }
        return dbt("build", work, variables, args=["--full-refresh"])

    runs = {}
    for step, data in enumerate("ABAB", start=1):
        run = build(data)
        runs[step] = run
        runs[f"in_use_{step}"] = run.query(
            "select model_version from int_segmentation_model_in_use"
        )[0][0]
        runs[f"scored_with_{step}"] = run.query(
            "select distinct model_version from customer_segments"
        )
    # the model in use is B's; scoring A with it drifts. Thresholds under
    # any drift must make the verdict `retrain` and the health test warn,
    # thresholds above any drift must not.
    # (values json.dumps writes without an exponent: dbt reads --vars as
    # YAML, where 1e-09 is a string)
    runs["forced"] = build(
        "A",
        "score",
        {"psi_watch": 0.0001, "psi_retrain": 0.0002, "max_model_age_days": 1},
    )
    runs["forced_verdict"] = runs["forced"].query(
        "select verdict from model_health order by run_started_at desc limit 1"
    )
    runs["relaxed"] = build(
        "A",
        "score",
        {"psi_watch": 1e6, "psi_retrain": 2e6, "max_model_age_days": 100000},
    )
    return runs


def test_alternating_full_refresh_builds_all_pass(alternating):
    for step in (1, 2, 3, 4):
        run = alternating[step]
        assert run.returncode == 0, run.output[-5000:]
        assert "Completed successfully" in run.output


def test_a_registered_version_is_reused_not_appended(alternating):
    a, b = alternating["in_use_1"], alternating["in_use_2"]
    assert a != b
    assert (alternating["in_use_3"], alternating["in_use_4"]) == (a, b)
    last = alternating[4]
    rows = last.query(
        "select model_version, times_put_in_use from segmentation_models order by 1"
    )
    assert rows == sorted([(a, 2), (b, 2)])
    (fits,) = last.query(
        "select count(*) from segmentation_model_artifacts where artifact = 'model'"
    )[0]
    assert fits == 2
    reasons = [
        r[0]
        for r in last.query(
            "select training_reason from segmentation_model_artifacts "
            "where artifact = 'use' order by recorded_at"
        )
    ]
    assert len(reasons) == 4
    assert [("reuses registered model" in r) for r in reasons] == [
        False,
        False,
        True,
        True,
    ]


def test_every_step_scores_with_the_model_in_use(alternating):
    for step in (1, 2, 3, 4):
        versions = alternating[f"scored_with_{step}"]
        assert versions == [(alternating[f"in_use_{step}"],)]


def test_no_model_has_a_nested_column(alternating):
    run = alternating["relaxed"]
    nested = run.query(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'main' and (data_type like '%[]' "
        "or data_type like 'STRUCT%' or data_type like 'MAP%' "
        "or data_type like 'UNION%' or data_type like '%[%]')"
    )
    assert nested == []
    (tables,) = run.query(
        "select count(distinct table_name) from information_schema.columns "
        "where table_schema = 'main'"
    )[0]
    assert tables > 20  # the query did read the built models


def test_the_health_warning_fires_when_the_frozen_model_drifts(alternating):
    forced, relaxed = alternating["forced"], alternating["relaxed"]
    assert forced.returncode == 0, forced.output[-5000:]
    assert relaxed.returncode == 0, relaxed.output[-5000:]
    warned = [line for line in forced.output.splitlines() if HEALTH_TEST in line]
    assert any("WARN" in line for line in warned), forced.output[-3000:]
    assert alternating["forced_verdict"] == [("retrain",)]
    quiet = [line for line in relaxed.output.splitlines() if HEALTH_TEST in line]
    assert quiet and not any("WARN" in line for line in quiet)
    assert "PASS" in " ".join(quiet)
