"""The model registry across rebuilds on alternating data, and the fitted
model kept as flat tables.

One warehouse, `dbt build --full-refresh` runs on two small generated data
sets, A, B, A: the third fits a model already registered, which must be
reused (and recorded as used again), never appended twice. Then drift is
forced on the frozen model (A's, scoring B) to see the health warning fire,
and a fourth full-refresh fit on B must reuse B's model in its turn.

The registry bookkeeping does not depend on clustering quality, so the builds
use the light settings of the small shared build, and the three fitting
builds leave out the dbt data tests (the shared builds run them all); the
first scoring build (forced drift) runs every test, the second (relaxed
thresholds) builds what the health test reads and runs that test alone,
since only its verdict is asserted there.
"""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
from conftest import SMALL_SEGMENTATION
from pipeline import dbt, generate_data
from test_bad_input import assert_clear_stop

NO_TESTS = ["--exclude-resource-type", "test", "unit_test"]
HEALTH_TEST = "assert_model_does_not_need_retraining"
# the health test and what it is made from, and no other test
RELAXED_SELECTION = ("--select", f"+{HEALTH_TEST}", "--indirect-selection", "empty")
# drift thresholds under any drift (forced) and above any drift (relaxed)
# (values json.dumps writes without an exponent: dbt reads --vars as
# YAML, where 1e-09 is a string)
MONITORING = {
    "forced": {"psi_watch": 0.0001, "psi_retrain": 0.0002, "max_model_age_days": 1},
    "relaxed": {"psi_watch": 1e6, "psi_retrain": 2e6, "max_model_age_days": 100000},
}


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
    # one warehouse and publication; each set of vars keeps its own target
    # folder (dbt's parsed project), so that every build after the first
    # with the same vars partial-parses: three parses for seven builds
    env = {
        "DUCKDB_PATH": str(base / "warehouse.duckdb"),
        "BI_DUCKDB_PATH": str(base / "published" / "segments.duckdb"),
    }

    def build(
        data: str,
        mode: str = "retrain",
        monitoring: str | None = None,
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
            **({"monitoring": MONITORING[monitoring]} if monitoring else {}),
        }
        work = base / f"run-{mode}-{monitoring or 'default'}"
        return dbt("build", work, variables, args=list(args), env=env)

    runs = {}
    # `score` on a warehouse that has no model yet stops the build: the
    # decision model raises when it compiles, before any of its SQL runs,
    # so the build selects it alone (a whole build stops at the same node);
    # with the vars of the forced build below, which parses no more then
    runs["score_first"] = build(
        "A", "score", "forced", args=("--select", "int_segmentation_retrain_decision")
    )
    for step, data in enumerate("ABA", start=1):
        run = build(data, args=("--full-refresh", *NO_TESTS))
        runs[step] = run
        runs[f"segments_{step}"] = segments(run)
        runs[f"migrations_{step}"] = migrations(run)
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
    runs["forced"] = build("B", "score", "forced")
    runs["forced_verdict"] = runs["forced"].query(
        "select verdict from model_health order by run_started_at desc limit 1"
    )
    runs["segments_forced"] = segments(runs["forced"])
    runs["migrations_forced"] = migrations(runs["forced"])
    runs["drift_forced"] = runs["forced"].query(
        "select segment_id, training_share, current_share, share_change, model_version "
        "from segment_drift"
    )
    runs["relaxed"] = build("B", "score", "relaxed", args=RELAXED_SELECTION)
    # A, B, A, B: the fourth fit is B's again, already registered
    runs[4] = build("B", args=("--full-refresh", *NO_TESTS))
    runs["in_use_4"] = runs[4].query(
        "select model_version from int_segmentation_model_in_use"
    )[0][0]
    runs["scored_with_4"] = runs[4].query(
        "select distinct model_version from customer_segments"
    )
    return runs


def segments(run) -> dict[str, int]:
    """customer_id -> segment_id of a build's customer_segments."""
    return dict(run.query("select customer_id, segment_id from customer_segments"))


def migrations(run) -> dict[tuple[str, str], int]:
    """(from_segment, to_segment) -> customer_count of segment_migrations."""
    return {
        (source, target): count
        for source, target, count in run.query(
            "select from_segment, to_segment, customer_count from segment_migrations"
        )
    }


def expected_migrations(
    before: dict[str, int], after: dict[str, int]
) -> dict[tuple[str, str], int]:
    """The moves between two builds' segments, counted here customer by
    customer: 'new' for a customer only after, 'departed' only before."""
    moves = Counter(
        (
            str(before[customer]) if customer in before else "new",
            str(after[customer]) if customer in after else "departed",
        )
        for customer in before.keys() | after.keys()
    )
    return dict(moves)


def test_score_mode_without_a_model_stops_with_what_to_do(alternating):
    run = alternating["score_first"]
    assert_clear_stop(
        run,
        "segmentation_mode is 'score' but no model is registered yet",
        "segmentation_mode: retrain",
    )
    assert "OK created python incremental model" not in run.output


def test_alternating_full_refresh_builds_all_pass(alternating):
    for step in (1, 2, 3, 4):
        run = alternating[step]
        assert run.returncode == 0, run.output[-5000:]
        assert "Completed successfully" in run.output


def test_a_registered_version_is_reused_not_appended(alternating):
    a, b = alternating["in_use_1"], alternating["in_use_2"]
    assert a != b
    assert alternating["in_use_3"] == a
    assert alternating["in_use_4"] == b
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


def test_migrations_are_the_moves_between_the_two_builds(alternating):
    """After a re-fit (step 2, B's model on B) and after a scoring with the
    frozen model (A's model on B, after step 3 on A): the migration matrix
    equals the moves counted from the two builds' customer_segments, so its
    counts sum to the customers of both builds."""
    pairs = [(1, 2), (2, 3), (3, "forced")]
    for before, after in pairs:
        got = alternating[f"migrations_{after}"]
        expected = expected_migrations(
            alternating[f"segments_{before}"], alternating[f"segments_{after}"]
        )
        assert got == expected, (before, after)
        current = alternating[f"segments_{after}"]
        assert sum(n for (_, to), n in got.items() if to != "departed") == len(current)
    # the data changed between the builds: customers came, left and moved
    moves = alternating["migrations_2"]
    assert any(source == "new" for source, _ in moves)
    assert any(target == "departed" for _, target in moves)


def test_segment_drift_compares_training_and_current_shares(alternating):
    """Scoring B with A's frozen model: each segment's training share is its
    share of A's customers when A's model was fitted (step 1, 300 customers,
    fewer than sample_size, so all trained), the current share its share of
    B's customers now, both counted here from customer_segments."""
    drift = alternating["drift_forced"]
    assert {version for *_, version in drift} == {alternating["in_use_1"]}
    trained, scored = alternating["segments_1"], alternating["segments_forced"]
    training = Counter(trained.values())
    current = Counter(scored.values())
    assert {row[0] for row in drift} == set(training) | set(current)
    for segment, training_share, current_share, change, _ in drift:
        assert training_share == pytest.approx(training[segment] / len(trained))
        assert current_share == pytest.approx(current[segment] / len(scored))
        assert change == pytest.approx(current_share - training_share)
    # B's customers fall in the segments in other proportions than A's
    assert max(abs(row[3]) for row in drift) > 0


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
