"""The daily cycle on the real data: train on the first half of 2011, score
the later days in batches with the frozen model, then retrain.

Checks the registry, the segment history and migrations, drift and the
retrain decision made in SQL before the fit (int_segmentation_retrain_decision).
Each batch runs with `monitoring` thresholds chosen by the test so that
one verdict is the only possible one: the test never recomputes a verdict
with the project's own rule. Five builds prove: the first build fits;
`auto` under its thresholds scores; `score` never fits, even when the
verdict is `watch` or `retrain`; the age of the model alone makes the
verdict `retrain`; `auto` fits on drift at least `psi_retrain`. (`retrain`
always fitting, and reusing a registered version, is test_model_registry.py;
the PSI arithmetic is the dbt unit test on feature_drift.)"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import SMALL_SEGMENTATION
from pipeline import REAL_DATA_GLOB, dbt, select_with_ancestors
from segmentation.artifacts import registry_row_from_artifacts

pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(
        not glob.glob(str(REAL_DATA_GLOB)),
        reason="../shared/data/online_retail is not beside the project",
    ),
]

REAL_FILES = sorted(glob.glob(str(REAL_DATA_GLOB)))
BATCH_ENDS = ["2011-06-30", "2011-08-31", "2011-10-31", "2011-12-31"]
# The cycle tests bookkeeping (registry, decision, drift, history), not the
# quality of the clustering, which the shared real build (default settings)
# and the planted-persona tests cover: the light settings of the small shared
# build (k-means, k 3 to 4, two bootstrap samples). For the same reason the
# builds leave out the dbt data tests, which real_build runs on the same
# data, the BI publication, and the marts no check here reads (profiles,
# top products, centroids, evaluation, load accounting): each builds what
# model_health, segment_migrations and segmentation_models are made from.
NO_TESTS = ["--exclude-resource-type", "test", "unit_test"]
SELECTED = select_with_ancestors(
    "model_health", "segment_migrations", "segmentation_models"
)


def deliver(raw: Path, up_to: str) -> int:
    """Link the real daily files up to a date into the raw folder."""
    raw.mkdir(parents=True, exist_ok=True)
    added = 0
    for path in REAL_FILES:
        name = os.path.basename(path)
        if name[:10] <= up_to and not (raw / name).exists():
            (raw / name).symlink_to(path)
            added += 1
    return added


def decision(run) -> dict:
    """The retrain decision of a build, as a dict of its one row."""
    columns = (
        "segmentation_mode",
        "should_fit",
        "fit_reason",
        "model_version_in_use",
        "verdict",
        "max_psi",
        "model_age_days",
    )
    rows = run.query(
        f"select {', '.join(columns)} from int_segmentation_retrain_decision"
    )
    assert len(rows) == 1
    return dict(zip(columns, rows[0], strict=True))


def arrow(run, sql: str) -> pa.Table:
    import duckdb

    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        table = con.sql(sql).arrow()
    return table.read_all() if isinstance(table, pa.RecordBatchReader) else table


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    work = tmp_path_factory.mktemp("cycle")
    raw = work / "raw"

    def build(mode: str, monitoring: dict | None = None):
        variables = {
            "raw_transactions": f"{raw}/*.csv.gz",
            "segmentation_mode": mode,
            "segmentation": SMALL_SEGMENTATION,
            "publish_for_bi": False,
        }
        if monitoring:
            variables["monitoring"] = monitoring
        run = dbt(
            "build",
            work / "run",
            variables,
            args=[*SELECTED, *NO_TESTS],
            env={"BI_DUCKDB_PATH": str(work / "bi.duckdb")},
        )
        assert run.returncode == 0, run.output[-5000:]
        return run

    # thresholds no drift or age reaches, and ones any real drift reaches
    never = {"psi_watch": 1e6, "psi_retrain": 2e6, "max_model_age_days": 100000}
    watch_only = {"psi_watch": 0.0001, "psi_retrain": 1e6, "max_model_age_days": 100000}
    age_only = {"psi_watch": 1e6, "psi_retrain": 2e6, "max_model_age_days": 100}
    batches = [
        (BATCH_ENDS[1], "auto", never),
        (BATCH_ENDS[2], "score", watch_only),
        (BATCH_ENDS[3], "score", age_only),
    ]

    runs = {}
    deliver(raw, BATCH_ENDS[0])
    # with no model registered, `auto` fits whatever the thresholds; those
    # of the next build, whose vars are then the same (dbt partial-parses)
    runs["train"] = build("auto", never)
    runs["decision_train"] = decision(runs["train"])
    runs["train_segments"] = runs["train"].query(
        "select customer_id, segment_id from customer_segments"
    )
    for end, mode, monitoring in batches:
        assert deliver(raw, end) > 0
        run = build(mode, monitoring)
        runs[f"score_{end}"] = run
        runs[f"decision_{end}"] = decision(run)
        runs[f"verdict_{end}"] = run.query(
            "select verdict, verdict_reason from model_health "
            "order by run_started_at desc limit 1"
        )[0]
        runs["migrations_" + end] = run.query(
            "select from_segment, to_segment, customer_count from segment_migrations"
        )
    last_score = runs[f"score_{BATCH_ENDS[-1]}"]
    runs["before_retrain"] = dict(
        last_score.query("select customer_id, segment_id from customer_segments")
    )
    runs["drift_before_retrain"] = dict(
        last_score.query("select feature, psi from feature_drift")
    )
    in_use = last_score.query("select model_version from int_segmentation_model_in_use")
    runs["model_before_retrain"] = registry_row_from_artifacts(
        arrow(last_score, "select * from segmentation_model_artifacts"), in_use[0][0]
    )
    # a threshold any real drift passes: `auto` must retrain
    runs["auto"] = build(
        "auto", {"psi_watch": 0.001, "psi_retrain": 0.002, "max_model_age_days": 100000}
    )
    runs["decision_auto"] = decision(runs["auto"])
    return runs


def test_first_run_registers_one_model_and_scoring_adds_none(cycle):
    run = cycle["auto"]
    versions = run.query(
        "select model_version, training_cutoff_date::varchar, training_reason "
        "from segmentation_models order by trained_at"
    )
    assert len(versions) == 2
    assert versions[0][1] == "2011-07-01"  # trained on the days up to 2011-06-30
    assert versions[0][2].startswith("auto: no model registered")
    assert versions[1][1] == "2011-12-10"
    assert versions[1][2].startswith("auto: drift PSI")
    # every scoring run used the first model
    health = run.query(
        "select model_version, retrained_this_run from model_health order by run_started_at"
    )
    assert len(health) == 5
    assert [h[0] for h in health[:4]] == [versions[0][0]] * 4
    assert health[4] == (versions[1][0], True)


def test_migrations_account_for_every_customer(cycle):
    run = cycle["auto"]
    for end in BATCH_ENDS[1:]:
        moves = cycle["migrations_" + end]
        assert sum(count for _, _, count in moves) > 0
    # the last run's matrix covers every customer before and after
    current, previous = run.query(
        "select (select count(*) from customer_segments), "
        "(select count(*) from customer_segment_history where dbt_valid_to is null)"
    )[0]
    assert current == previous
    to_counts = dict(
        run.query(
            "select to_segment, sum(customer_count) from segment_migrations group by 1"
        )
    )
    assert sum(v for k, v in to_counts.items() if k != "departed") == current
    new_in_batch = dict(
        (to, count) for frm, to, count in cycle["migrations_2011-08-31"] if frm == "new"
    )
    assert sum(new_in_batch.values()) > 0  # customers first seen in July-August


def test_history_keeps_each_customers_segments_over_time(cycle):
    run = cycle["auto"]
    (open_rows, customers) = run.query(
        "select count(*) filter (where dbt_valid_to is null), count(distinct customer_id) "
        "from customer_segment_history"
    )[0]
    assert open_rows == customers
    (changed,) = run.query(
        "select count(*) from (select customer_id from customer_segment_history "
        "group by 1 having count(*) > 1)"
    )[0]
    assert changed > 0


def test_the_decision_follows_the_mode_and_the_thresholds_set_here(cycle):
    first = cycle["decision_train"]
    assert first["should_fit"] is True
    assert first["model_version_in_use"] is None
    assert first["fit_reason"] == "auto: no model registered yet"
    model = cycle["model_before_retrain"]["model_version"]

    # auto, thresholds nothing reaches: scores with the model in use
    under = cycle[f"decision_{BATCH_ENDS[1]}"]
    assert (under["should_fit"], under["verdict"]) == (False, "ok")
    assert under["model_version_in_use"] == model
    assert under["fit_reason"].startswith(
        "auto: model still fits the data; largest PSI"
    )

    # score never fits, whatever the verdict
    watch = cycle[f"decision_{BATCH_ENDS[2]}"]
    assert (watch["should_fit"], watch["verdict"]) == (False, "watch")
    assert watch["fit_reason"] == "score: requested by segmentation_mode"
    assert cycle[f"verdict_{BATCH_ENDS[2]}"][0] == "watch"

    # the age alone: trained on data to 2011-06-30 (cut-off 2011-07-01),
    # scored on data to 2011-12-09 (as-of 2011-12-10): 162 days > 100
    old = cycle[f"decision_{BATCH_ENDS[3]}"]
    assert (old["should_fit"], old["verdict"]) == (False, "retrain")
    assert old["model_age_days"] == 162
    verdict, reason = cycle[f"verdict_{BATCH_ENDS[3]}"]
    assert verdict == "retrain"
    assert "model data 162 days old > 100" in reason

    # auto with drift over psi_retrain: fits
    drifted = cycle["decision_auto"]
    assert (drifted["should_fit"], drifted["verdict"]) == (True, "retrain")
    assert drifted["model_version_in_use"] == model
    assert drifted["fit_reason"].startswith("auto: drift PSI ")
    assert drifted["fit_reason"].endswith(">= monitoring.psi_retrain 0.002")


def test_drift_is_computed_for_every_feature_the_model_uses(cycle):
    # drift of the full data against the model trained to 2011-06-30
    model = cycle["model_before_retrain"]
    drift = cycle["drift_before_retrain"]
    assert set(drift) == set(model["features_used"])
    assert all(value >= 0 for value in drift.values())
    # the decision of the next build measured the same model on the same data
    assert cycle["decision_auto"]["max_psi"] == pytest.approx(max(drift.values()))
    assert max(drift.values()) > 0.002


def test_retraining_keeps_segment_ids_for_customers_whose_data_did_not_change(cycle):
    before = cycle["before_retrain"]
    after = dict(
        cycle["auto"].query("select customer_id, segment_id from customer_segments")
    )
    assert set(before) == set(after)
    kept = sum(before[c] == after[c] for c in before) / len(before)
    assert kept >= 0.7, f"only {kept:.0%} kept their segment id"
