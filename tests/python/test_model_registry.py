"""The model registry across rebuilds on alternating data, and the fitted
model kept as flat tables.

One warehouse, three `dbt build --full-refresh` runs on two small generated
data sets, A, B, A: the third fits a model already registered, which must be
reused (and recorded as used again), never appended twice. Then drift is
forced on the frozen model (A's, scoring B) to see the health warning fire.

The registry bookkeeping does not depend on clustering quality, so the builds
use the light settings of the small shared build, and the three fitting
builds leave out the dbt data tests (the shared builds run them all); the two
scoring builds run every test, since the health test's verdict is asserted.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import SMALL_SEGMENTATION
from pipeline import dbt, generate_data

NO_TESTS = ["--exclude-resource-type", "test", "unit_test"]
HEALTH_TEST = "assert_model_does_not_need_retraining"


@pytest.fixture(scope="module")
def alternating(tmp_path_factory):
    base = tmp_path_factory.mktemp("alternating")
    raws = {
        "A": generate_data(base / "a", customers=300, seed=3),
        "B": generate_data(base / "b", customers=400, seed=9),
    }
    # one raw folder whose files are swapped, so that raw_transactions (and
    # with it dbt's vars) stays the same and dbt's partial parsing holds
    delivered = base / "delivered"
    delivered_now = [""]
    work = base / "run"

    def build(
        data: str,
        mode: str = "retrain",
        monitoring: dict | None = None,
        args: tuple[str, ...] = ("--full-refresh",),
    ):
        if data != delivered_now[0]:
            shutil.rmtree(delivered, ignore_errors=True)
            shutil.copytree(raws[data], delivered)
            delivered_now[0] = data
        variables = {
            "raw_transactions": f"{delivered}/*.csv.gz",
            "segmentation": SMALL_SEGMENTATION,
            "segmentation_mode": mode,
            **({"monitoring": monitoring} if monitoring else {}),
        }
        return dbt("build", work, variables, args=list(args))

    runs = {}
    for step, data in enumerate("ABA", start=1):
        run = build(data, args=("--full-refresh", *NO_TESTS))
        runs[step] = run
        runs[f"in_use_{step}"] = run.query(
            "select model_version from int_segmentation_model_in_use"
        )[0][0]
        runs[f"scored_with_{step}"] = run.query(
            "select distinct model_version from customer_segments"
        )
    # the model in use is A's; scoring B with it drifts. Thresholds under
    # any drift must make the verdict `retrain` and the health test warn,
    # thresholds above any drift must not (the second build, on the same
    # files, loads nothing new: no --full-refresh).
    # (values json.dumps writes without an exponent: dbt reads --vars as
    # YAML, where 1e-09 is a string)
    runs["forced"] = build(
        "B",
        "score",
        {"psi_watch": 0.0001, "psi_retrain": 0.0002, "max_model_age_days": 1},
    )
    runs["forced_verdict"] = runs["forced"].query(
        "select verdict from model_health order by run_started_at desc limit 1"
    )
    runs["relaxed"] = build(
        "B",
        "score",
        {"psi_watch": 1e6, "psi_retrain": 2e6, "max_model_age_days": 100000},
        args=(),
    )
    return runs


def test_alternating_full_refresh_builds_all_pass(alternating):
    for step in (1, 2, 3):
        run = alternating[step]
        assert run.returncode == 0, run.output[-5000:]
        assert "Completed successfully" in run.output


def test_a_registered_version_is_reused_not_appended(alternating):
    a, b = alternating["in_use_1"], alternating["in_use_2"]
    assert a != b
    assert alternating["in_use_3"] == a
    last = alternating[3]
    rows = last.query(
        "select model_version, times_put_in_use from segmentation_models order by 1"
    )
    assert rows == sorted([(a, 2), (b, 1)])
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
    assert len(reasons) == 3
    assert [("reuses registered model" in r) for r in reasons] == [False, False, True]


def test_every_step_scores_with_the_model_in_use(alternating):
    for step in (1, 2, 3):
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
