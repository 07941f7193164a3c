"""Faults: a build killed in the middle, and two builds at once.

Both tests share one project folder (warehouse, BI publication and dbt vars
constant, so dbt's partial parsing keeps the builds short). The clustering
settings are heavy enough (and `segmentation_mode: retrain`) that the Python
model runs for a few seconds, long enough to be killed in the middle.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from pipeline import DBT, PROJECT_ROOT, dbt
from test_bad_input import csv_text, publication_state, sale_rows

SEGMENTATION = {
    "algorithms": ["kmeans", "agglomerative"],
    "k_min": 2,
    "k_max": 6,
    "bootstrap_samples": 25,
    "sample_size": 50,
}
PYTHON_MODEL_STARTED = (
    "START python incremental model main.segmentation_model_artifacts"
)
PYTHON_MODEL_DONE = "model main.segmentation_model_artifacts"


class Folder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = root / "work"
        self.published = root / "published" / "segments.duckdb"
        raw = root / "raw"
        raw.mkdir(parents=True)
        (raw / "sales.csv").write_text(csv_text(sale_rows(40, seed=3, invoices=2)))
        self.variables = {
            "raw_transactions": f"{raw}/*.csv",
            "segmentation": SEGMENTATION,
            "segmentation_mode": "retrain",
        }
        self.env = {"BI_DUCKDB_PATH": str(self.published)}

    def build(self):
        return dbt("build", self.work, self.variables, env=self.env)

    def start_build(self, output: Path) -> subprocess.Popen:
        """`dbt build` in the background, in its own process group, output to a file."""
        cmd = [
            str(DBT),
            "build",
            "--target-path",
            str(self.work / "target"),
            "--log-path",
            str(self.work / "logs"),
            "--vars",
            json.dumps(self.variables),
        ]
        env = {
            **os.environ,
            "DBT_PROFILES_DIR": str(PROJECT_ROOT),
            "DUCKDB_PATH": str(self.work / "warehouse.duckdb"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **self.env,
        }
        with output.open("w") as sink:
            return subprocess.Popen(
                cmd,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


def _wait_for(process: subprocess.Popen, output: Path, text: str, timeout=180) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = output.read_text()
        if text in seen:
            return seen
        if process.poll() is not None:
            pytest.fail(f"dbt ended before {text!r}:\n{seen[-3000:]}")
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail(f"no {text!r} within {timeout} s")


def _temporary_tables(folder: Folder) -> set[str]:
    with duckdb.connect(str(folder.work / "warehouse.duckdb"), read_only=True) as con:
        return {
            name
            for (name,) in con.sql(
                "select table_name from information_schema.tables "
                "where table_name like '%dbt_tmp%' or table_name like '%dbt_backup%'"
            ).fetchall()
        }


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Folder:
    folder = Folder(tmp_path_factory.mktemp("faults"))
    first = folder.build()
    assert first.returncode == 0, first.output[-5000:]
    assert publication_state(folder.published) is not None, "nothing was published"
    return folder


def test_a_build_killed_in_the_python_model_leaves_the_publication_and_rebuilds(
    folder,
):
    last_good = publication_state(folder.published)
    output = folder.root / "killed.out"
    process = folder.start_build(output)
    seen = _wait_for(process, output, PYTHON_MODEL_STARTED)
    time.sleep(0.3)
    during = publication_state(folder.published)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    seen = output.read_text()
    # killed while the Python model ran, not after
    assert seen.count(PYTHON_MODEL_DONE) == 1, seen[-3000:]
    assert process.returncode == -signal.SIGKILL
    assert during == last_good
    assert publication_state(folder.published) == last_good
    left_by_killed_run = _temporary_tables(folder)

    # the next build needs no cleaning, and drops what the killed run left
    again = folder.build()
    assert again.returncode == 0, again.output[-5000:]
    published = publication_state(folder.published)
    assert published is not None and published[0] != last_good[0]
    left_now = _temporary_tables(folder)
    assert not left_by_killed_run & left_now
    # (dbt-duckdb leaves the incremental Python model's own temporary table,
    # which the next run's on-run-start hook drops)
    assert len(left_now) <= 1
    customers, segmented = again.query(
        "select (select count(*) from customer_features), count(distinct customer_id) "
        "from customer_segments"
    )[0]
    assert customers == segmented == 40


def test_a_second_build_at_once_waits_for_the_first(folder):
    """DuckDB lets one process write the warehouse. The first build holds it
    for its whole run (`keep_open` in profiles.yml) and finishes; the second
    retries its connection (`retries`) and runs when the first is done."""
    last_good = publication_state(folder.published)
    output = folder.root / "first.out"
    first = folder.start_build(output)
    # the first build holds the warehouse from its on-run-start hooks on
    _wait_for(first, output, "on-run-start.0")
    second = folder.build()
    first.wait(timeout=300)
    first_output = output.read_text()
    # keep_open: the first build holds the file until it is done
    assert first.returncode == 0, first_output[-3000:]

    warehouse = str(folder.work / "warehouse.duckdb")
    with duckdb.connect(warehouse, read_only=True) as con:
        customers, segmented = con.sql(
            "select (select count(*) from customer_features), "
            "count(distinct customer_id) from customer_segments"
        ).fetchone()
    assert customers == segmented == 40
    published = publication_state(folder.published)
    assert published is not None and published[0] != last_good[0]
    # retries: the second build waited for the first and then ran
    assert second.returncode == 0, second.output[-3000:]
