"""Faults: builds killed in the middle, two builds at once, a warehouse held
by another process, and the same result whatever the thread counts.

The kills land where they hurt: in the Python model, between the raw load's
insert and its commit, and in the publication's renames. Each point is
reached with tests/python/fault_injection/sitecustomize.py, which pauses the
real `dbt build` process there (it hangs until the test kills it, or resumes
it), so no kill depends on how long a step happens to take.

The tests of the module's `folder` share one project folder (warehouse, BI
publication and dbt vars constant, so dbt's partial parsing keeps the builds
short; the second of two concurrent builds starts from the folder's parsed
project). The kill in the raw load runs last there, as it adds a raw file. These tests are about faults, not clustering or data quality: the
settings are light and the builds leave out the dbt data tests (the shared
builds run them).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from pipeline import (
    PROJECT_ROOT,
    DbtRun,
    dbt,
    dbt_command,
    dbt_environment,
    kill_group,
    select_with_ancestors,
    tail,
)
from test_bad_input import csv_text, publication_state, sale_rows

LIGHT_SEGMENTATION = {
    "algorithms": ["kmeans"],
    "k_min": 2,
    "k_max": 3,
    "bootstrap_samples": 0,
    "sample_size": 50,
}
PYTHON_MODEL_STARTED = (
    "START python incremental model main.segmentation_model_artifacts"
)
PYTHON_MODEL_DONE = "model main.segmentation_model_artifacts"
FAULT_INJECTION = Path(__file__).resolve().parent / "fault_injection"
RAW_LOAD = "base_online_retail__lines_parsed"
NO_TESTS = ["--exclude-resource-type", "test", "unit_test"]
WAIT = 300  # seconds a background build may take to reach a point or end


class Folder:
    """A project folder: raw files, the build's work folder, the publication."""

    def __init__(self, root: Path, segmentation: dict) -> None:
        self.root = root
        self.work = root / "work"
        self.warehouse = self.work / "warehouse.duckdb"
        self.published = root / "published" / "segments.duckdb"
        self.raw = root / "raw"
        self.raw.mkdir(parents=True)
        self.lines = self.write("sales.csv", sale_rows(40, seed=3, invoices=2))
        self.variables = {
            "raw_transactions": f"{self.raw}/*.csv",
            "segmentation": segmentation,
            "segmentation_mode": "retrain",
        }
        self.env = {"BI_DUCKDB_PATH": str(self.published)}

    def write(self, name: str, rows: list[list[object]]) -> int:
        (self.raw / name).write_text(csv_text(rows))
        return len(rows)

    def build(self, env: dict | None = None, work: Path | None = None) -> DbtRun:
        """`dbt build` to its end; `work` gives it other target and log folders
        (the warehouse and the publication stay this folder's)."""
        return dbt(
            "build",
            work or self.work,
            self.variables,
            args=NO_TESTS,
            env={**self.env, "DUCKDB_PATH": str(self.warehouse), **(env or {})},
        )

    def start_build(
        self,
        output: Path,
        faults: dict | None = None,
        work: Path | None = None,
    ) -> subprocess.Popen:
        """`dbt build` in the background, in its own process group, output to
        a file; `faults` are FAULT_* variables of fault_injection/."""
        work = work or self.work
        env = dbt_environment(work, {**self.env, "DUCKDB_PATH": str(self.warehouse)})
        if faults:
            env.update(faults)
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(FAULT_INJECTION), env.get("PYTHONPATH")])
            )
        with output.open("w") as sink:
            return subprocess.Popen(
                dbt_command("build", work, self.variables, NO_TESTS),
                cwd=PROJECT_ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )


@pytest.fixture
def background() -> Iterator[list[subprocess.Popen]]:
    """Background processes of a test; whatever still runs at its end is killed."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            kill_group(process)


def _wait_for(
    process: subprocess.Popen, output: Path, text: str, timeout: float = WAIT
) -> str:
    """Wait until `text` is in the file `output` (dbt's output or log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = output.read_text() if output.exists() else ""
        if text in seen:
            return seen
        if process.poll() is not None:
            pytest.fail(f"dbt ended before {text!r} in {output}:\n{tail(seen)}")
        time.sleep(0.05)
    kill_group(process)
    pytest.fail(f"no {text!r} in {output} within {timeout} s")


def _end(process: subprocess.Popen, output: Path, timeout: float = WAIT) -> str:
    """Wait for a background build to end; its output."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        pytest.fail(f"dbt did not end within {timeout} s:\n{tail(output.read_text())}")
    return output.read_text()


def _temporary_tables(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            name
            for (name,) in con.sql(
                "select table_name from information_schema.tables "
                "where table_name like '%dbt_tmp%' or table_name like '%dbt_backup%'"
            ).fetchall()
        }


def _node_starts(target: Path) -> list[float]:
    """Start times (Unix seconds) of every node and hook in run_results.json."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return [
        dt.datetime.fromisoformat(timing["started_at"].replace("Z", "+00:00"))
        .replace(tzinfo=dt.UTC)
        .timestamp()
        for result in results
        for timing in result["timing"]
        if timing.get("started_at")
    ]


def _published_tables(database: Path) -> dict[str, int]:
    """Row counts of every table of a publication (opened read-only)."""
    with duckdb.connect(str(database), read_only=True) as con:
        names = [
            name
            for (name,) in con.sql(
                "select table_name from information_schema.tables order by 1"
            ).fetchall()
        ]
        return {
            name: con.sql(f'select count(*) from "{name}"').fetchone()[0]
            for name in names
        }


def _parquet_publication(database: Path) -> str:
    """The version of the Parquet files behind the `parquet` link, after
    checking that each table's file holds the rows publication_info counts."""
    folder = database.parent / "parquet"
    with duckdb.connect() as con:
        info = con.sql(
            f"select table_name, row_count, publication_version "
            f"from '{folder / 'publication_info.parquet'}'"
        ).fetchall()
        assert info, f"empty publication_info in {folder}"
        for table, rows, _ in info:
            (read,) = con.sql(
                f"select count(*) from '{folder / table}.parquet'"
            ).fetchone()
            assert read == rows, (table, read, rows)
    versions = {version for _, _, version in info}
    assert len(versions) == 1, versions
    return versions.pop()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Folder:
    folder = Folder(tmp_path_factory.mktemp("faults"), LIGHT_SEGMENTATION)
    first = folder.build()
    assert first.returncode == 0, tail(first.output)
    assert publication_state(folder.published) is not None, "nothing was published"
    return folder


def test_a_build_killed_in_the_python_model_leaves_the_publication_and_rebuilds(
    folder, background
):
    last_good = publication_state(folder.published)
    output = folder.root / "killed.out"
    marker = folder.root / "paused-in-python-model"
    process = folder.start_build(
        output, faults={"FAULT_MARKER": str(marker), "FAULT_PAUSE_IN_PYTHON_MODEL": "1"}
    )
    background.append(process)
    _wait_for(process, marker, "in the Python model")
    during = publication_state(folder.published)
    kill_group(process)
    seen = output.read_text()
    # killed while the Python model ran, not after
    assert PYTHON_MODEL_STARTED in seen, tail(seen)
    assert seen.count(PYTHON_MODEL_DONE) == 1, tail(seen)
    assert process.returncode == -signal.SIGKILL
    assert during == last_good
    assert publication_state(folder.published) == last_good
    left_by_killed_run = _temporary_tables(folder.warehouse)

    # the next build needs no cleaning, and drops what the killed run left
    again = folder.build()
    assert again.returncode == 0, tail(again.output)
    published = publication_state(folder.published)
    assert published is not None and published[0] != last_good[0]
    left_now = _temporary_tables(folder.warehouse)
    assert not left_by_killed_run & left_now
    # (dbt-duckdb leaves the incremental Python model's own temporary table,
    # which the next run's on-run-start hook drops)
    assert len(left_now) <= 1
    customers, segmented = again.query(
        "select (select count(*) from customer_features), count(distinct customer_id) "
        "from customer_segments"
    )[0]
    assert customers == segmented == 40


def test_a_second_build_at_once_waits_for_the_first(folder, background):
    """DuckDB lets one process write the warehouse. The first build holds it
    for its whole run (`keep_open` in profiles.yml); the second retries its
    connection (`retries`) and runs when the first is done.

    The first build is paused in its last step (the publication commit), so
    it holds the warehouse for as long as the test wants: the second build
    tries to connect meanwhile, runs nothing while the first holds the file,
    and runs in full once the first is let go."""
    last_good = publication_state(folder.published)
    resume = folder.root / "resume-first"
    marker = folder.root / "first-paused"
    first_output = folder.root / "first.out"
    first = folder.start_build(
        first_output,
        faults={
            "FAULT_MARKER": str(marker),
            "FAULT_PAUSE_BEFORE_RENAME_TO": str(folder.published),
            "FAULT_RESUME": str(resume),
        },
    )
    background.append(first)
    _wait_for(first, marker, "before os.replace")

    second_work = folder.root / "second"
    second_output = folder.root / "second.out"
    # the project as the folder's builds parsed it (same vars and profile),
    # so that the second build partial-parses; only that file, so that its
    # target folder holds no run_results.json until it has run
    (second_work / "target").mkdir(parents=True)
    shutil.copy(
        folder.work / "target" / "partial_parse.msgpack", second_work / "target"
    )
    second = folder.start_build(second_output, work=second_work)
    background.append(second)
    # the second build reached its first connection to the warehouse ...
    _wait_for(second, second_work / "logs" / "dbt.log", "Opening a new connection")
    time.sleep(3)
    # ... and is still waiting for it: nothing of the build has run
    assert second.poll() is None, tail(second_output.read_text())
    log = (second_work / "logs" / "dbt.log").read_text()
    assert "Could not set lock" not in log
    assert "SQL status" not in log and " START " not in second_output.read_text()
    assert not (second_work / "target" / "run_results.json").exists()

    resumed_at = time.time()
    resume.touch()
    seen = _end(first, first_output)
    assert first.returncode == 0, tail(seen)
    first_publication = publication_state(folder.published)
    assert first_publication[0] != last_good[0]

    seen = _end(second, second_output)
    assert second.returncode == 0, tail(seen)
    # every node and hook of the second build started after the first let go
    starts = _node_starts(second_work / "target")
    assert starts and min(starts) >= resumed_at, (min(starts), resumed_at)
    published = publication_state(folder.published)
    assert published[0] not in (last_good[0], first_publication[0])
    warehouse = DbtRun(0, "", folder.warehouse)
    customers, segmented = warehouse.query(
        "select (select count(*) from customer_features), "
        "count(distinct customer_id) from customer_segments"
    )[0]
    assert customers == segmented == 40


def test_a_held_warehouse_stops_the_build_with_the_lock_message(folder):
    """Past its retries a build stops with DuckDB's message naming the file
    and the process holding it (docs/troubleshooting.md), and publishes
    nothing. DUCKDB_CONNECT_ATTEMPTS=2 makes it give up after 1 + 2 s."""
    last_good = publication_state(folder.published)
    with duckdb.connect(str(folder.warehouse)):  # a writer holds the file
        started = time.monotonic()
        run = folder.build(env={"DUCKDB_CONNECT_ATTEMPTS": "2"})
        waited = time.monotonic() - started
    assert run.returncode != 0, tail(run.output)
    assert f'Could not set lock on file "{folder.warehouse}"' in run.output, tail(
        run.output
    )
    assert f"(PID {os.getpid()})" in run.output, tail(run.output)
    # it retried (1 s, then 2 s) before it gave up
    assert waited >= 3
    assert publication_state(folder.published) == last_good


@pytest.mark.parametrize("rename", ["parquet link", "database"])
def test_a_build_killed_in_the_publication_rename_leaves_a_readable_publication(
    folder, background, rename
):
    """The commit renames the Parquet folder into place, swaps the `parquet`
    link, then replaces the DuckDB file. Killed before the link swap or
    before the database replace, the previous database stays in place and
    readable, the link leads to one complete Parquet version, and the next
    build publishes over it and removes what the killed one left."""
    last_good = publication_state(folder.published)
    last_tables = _published_tables(folder.published)
    target = (
        folder.published
        if rename == "database"
        else folder.published.parent / "parquet"
    )
    marker = folder.root / f"paused-{rename.replace(' ', '-')}"
    output = folder.root / f"killed-{rename.replace(' ', '-')}.out"
    process = folder.start_build(
        output,
        faults={
            "FAULT_MARKER": str(marker),
            "FAULT_PAUSE_BEFORE_RENAME_TO": str(target),
        },
    )
    background.append(process)
    _wait_for(process, marker, "before os.replace")
    kill_group(process)
    assert process.returncode == -signal.SIGKILL

    version, digest, link = publication_state(folder.published)
    # the previous database, byte for byte, and every table reads
    assert (version, digest) == last_good[:2]
    assert _published_tables(folder.published) == last_tables
    parquet_version = _parquet_publication(folder.published)
    if rename == "parquet link":
        assert link == last_good[2]
        assert parquet_version == version
    else:
        # the link was swapped: the Parquet files are the killed build's own
        # complete version, until the next build publishes both again
        assert link != last_good[2]
        assert parquet_version != version
    staged = [
        p.name for p in folder.published.parent.rglob("*") if ".staged-" in p.name
    ]
    assert staged, "the killed build left nothing staged: was it killed in the commit?"

    again = folder.build()
    assert again.returncode == 0, tail(again.output)
    new_version, _, new_link = publication_state(folder.published)
    assert new_version != version and new_link != link
    assert _parquet_publication(folder.published) == new_version
    assert not [
        p.name for p in folder.published.parent.rglob("*") if ".staged-" in p.name
    ]


def test_a_build_killed_in_the_raw_load_loads_the_new_file_once_next_time(
    folder, tmp_path, background
):
    """Killed after the raw load inserted a new file's lines and before it
    committed them, the warehouse keeps the lines of the earlier load only;
    the next (incremental) build loads the new file, each line once.

    The last test of the module's folder: it adds a raw file there."""
    last_good = publication_state(folder.published)
    assert last_good is not None
    added = folder.write("sales_2.csv", sale_rows(30, seed=4, first_customer=13001))

    marker = tmp_path / "paused-raw-load"
    output = tmp_path / "killed.out"
    process = folder.start_build(
        output,
        faults={"FAULT_MARKER": str(marker), "FAULT_PAUSE_AFTER_INSERT_INTO": RAW_LOAD},
    )
    background.append(process)
    _wait_for(process, marker, f"after insert into {RAW_LOAD}")
    kill_group(process)
    assert process.returncode == -signal.SIGKILL
    # killed in the raw load, not after it
    assert output.read_text().count(f"model main.{RAW_LOAD} ") == 1, tail(
        output.read_text()
    )

    warehouse = DbtRun(0, "", folder.warehouse)
    by_file = dict(
        warehouse.query(
            f"select regexp_extract(source_file, '[^/]+$'), count(*) from {RAW_LOAD} group by 1"
        )
    )
    assert by_file == {"sales.csv": folder.lines}
    assert publication_state(folder.published) == last_good

    again = folder.build()
    assert again.returncode == 0, tail(again.output)
    by_file = dict(
        again.query(
            "select regexp_extract(source_file, '[^/]+$'), lines_read from source_file_loads"
        )
    )
    assert by_file == {"sales.csv": folder.lines, "sales_2.csv": added}
    (duplicates,) = again.query(
        "select count(*) from transaction_rejects where reject_reason = 'duplicate_line'"
    )[0]
    assert duplicates == 0
    (customers,) = again.query("select count(*) from customer_segments")[0]
    assert customers == 70


# every column but the wall clock of the training
COMPARED = {
    "customer_features": "select * from customer_features order by customer_id",
    "customer_segments": "select * from customer_segments order by customer_id",
    "segment_profiles": "select * from segment_profiles order by segment_id",
    "segment_centroids": "select * from segment_centroids order by all",
    "segmentation_model_evaluation": "select * exclude (fit_seconds) "
    "from segmentation_model_evaluation order by candidate_id",
    "segmentation_models": "select model_version, data_fingerprint, algorithm, "
    "parameters_json, n_segments, features_used, features_dropped "
    "from segmentation_models order by model_version",
    "int_segmentation_model_centroids": "select * "
    "from int_segmentation_model_centroids order by all",
}


def test_one_and_two_threads_build_the_same_segments_and_metrics(
    generated_build, tmp_path
):
    """The shared default build ran with the profile's 2 dbt threads and 2
    DuckDB threads; the same data and settings with 1 and 1 give the same
    features, segments, profiles and model metrics, value for value (the
    build makes the compared tables and what they are made from)."""
    single = dbt(
        "build",
        tmp_path,
        generated_build.variables,
        args=[*select_with_ancestors(*COMPARED), *NO_TESTS, "--threads", "1"],
        env={"DUCKDB_THREADS": "1"},
    )
    assert single.returncode == 0, tail(single.output)
    assert "Concurrency: 1 threads" in single.output
    assert "Concurrency: 2 threads" in generated_build.output
    for table, sql in COMPARED.items():
        two, one = generated_build.query(sql), single.query(sql)
        assert len(two) > 0, table
        # every key, text and count equal; a float may differ in its last
        # bits only (a parallel sum adds in another order)
        assert len(one) == len(two), table
        for row_one, row_two in zip(one, two, strict=True):
            assert _same_row(row_one, row_two), (table, row_one, row_two)


def _same_row(one: tuple, two: tuple) -> bool:
    """Equal value for value; floats to 1e-12 relative (a parallel sum adds
    in another order, so only its last bits may differ)."""
    return len(one) == len(two) and all(
        math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
        if isinstance(a, float) and isinstance(b, float)
        else a == b
        for a, b in zip(one, two, strict=True)
    )
