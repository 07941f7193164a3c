"""The benchmark harness (`make bench`) at a tiny scale: it runs and reports.

No timing is asserted: these tests keep the harness working, the numbers
are BENCHMARKS.md's business.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
from pathlib import Path

import pytest
from bench import datasets, harness, report
from bench.dbt_build import BuildResult, NodeTiming
from bench.monitor import Measured, run_measured, tree_rss_bytes
from pipeline import run_command

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BENCHMARK = PROJECT_ROOT / "python_jobs" / "benchmark.py"

HEADER = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
)
REAL_LIKE_DAYS = {
    "2010-12-01": [
        '536365,85123A,"HANGING HEART, WHITE",6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
        "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom",
        "536414,22139,,56,2010-12-01 11:52:00,0.0,,United Kingdom",
    ],
    "2010-12-02": [
        "536520,21123,SET/10 IVORY POLKADOT,1,2010-12-02 12:43:00,1.25,14729.0,United Kingdom",
    ],
}


@pytest.fixture(scope="module")
def tiny_bench(tmp_path_factory):
    """One `benchmark.py --scales tiny --repeats 2` run (two builds, each
    followed by a notebook run): its results and its report."""
    root = tmp_path_factory.mktemp("bench")
    output = root / "BENCHMARKS.md"
    output.write_text("# Benchmarks\n\nHand-written analysis.\n")
    run_command(
        [
            sys.executable,
            str(BENCHMARK),
            "--scales",
            "tiny",
            "--repeats",
            "2",
            "--work-dir",
            str(root / "work"),
            "--data-dir",
            str(root / "data"),
            "--output",
            str(output),
        ],
        check=True,
    )
    results = json.loads((root / "work" / "results.json").read_text())
    return results, output.read_text()


def test_tiny_run_measures_build_and_both_references(tiny_bench):
    results, _ = tiny_bench
    assert results["machine"]["cores"] >= 1
    assert len(results["machine"]["load_average"]) == 3
    (run,) = results["runs"]
    assert run["scale"] == "tiny" and run["format"] == "csv.gz"

    build = run["build"]
    assert build["returncode"] == 0
    assert build["lines"] >= 1000 and build["customers"] >= 50
    assert build["wall_seconds"] > 0 and build["peak_rss_bytes"] > 0
    assert build["customers_per_second"] > 0
    assert build["model"]["k"] >= 2
    # every node of the build is timed, and the layers add up to the nodes
    assert len(build["nodes"]) > 50
    assert {"staging", "intermediate", "customer_features", "tests"} <= set(
        build["layers"]
    )
    assert sum(build["layers"].values()) == pytest.approx(
        sum(node["seconds"] for node in build["nodes"]), abs=0.05
    )
    assert build["feature_layer_seconds"] == pytest.approx(
        sum(build["layers"][layer] for layer in results["feature_layers"]), abs=0.01
    )

    notebook, floor = run["notebook"], run["floor"]
    assert notebook["returncode"] == 0 and floor["returncode"] == 0
    # the references and the build agree on who the customers are
    assert floor["customers"] == notebook["customers"]
    assert abs(floor["customers"] - build["customers"]) <= 0.05 * build["customers"]
    assert 2 <= notebook["best_k"] <= 10
    # the write floor wrote the lines the CSV reader could read (it skips
    # what it cannot parse: the tiny data is dirty on purpose)
    assert 0.9 * build["lines"] <= floor["lines"] <= build["lines"]
    assert floor["write_seconds"] > 0
    assert set(run["ratios"]) >= {
        "build_over_notebook",
        "feature_layers_over_floor",
        "write_floor_over_floor",
        "write_and_count_floors_over_floor",
        "staging_steps_floors_over_floor",
    }
    # two builds and two notebook runs; the record is the slower of each pair
    # (the median of an even count), and the ratio divides those two
    build_walls = [r["wall_seconds"] for r in build["runs"]]
    notebook_walls = [r["wall_seconds"] for r in notebook["runs"]]
    assert len(build_walls) == len(notebook_walls) == 2
    assert build["wall_seconds"] == max(build_walls)
    assert notebook["wall_seconds"] == max(notebook_walls)
    assert run["ratios"]["build_over_notebook"] == pytest.approx(
        max(build_walls) / max(notebook_walls), abs=0.001
    )
    assert all(r["peak_rss_bytes"] > 0 for r in build["runs"] + notebook["runs"])
    # the floors ran beside each build; each time is the median of its runs,
    # and the CSV floor counts each file's lines as the fast path does
    assert len(floor["runs"]) == len(run["floor_parquet"]["runs"]) == 2
    for key in (
        "seconds",
        "write_seconds",
        "count_seconds",
        *harness.STAGING_STEP_FLOORS,
    ):
        assert floor[key] == max(r[key] for r in floor["runs"]) > 0
    for key in ("count_seconds", *harness.STAGING_STEP_FLOORS, "features_customers"):
        assert run["floor_parquet"][key] is None
    # the features' floor read the lines the typed write kept: the floor
    # query's customers, in every run
    assert all(r["features_customers"] == r["customers"] for r in floor["runs"])


def test_tiny_report_keeps_prose_and_has_the_tables(tiny_bench):
    _, text = tiny_bench
    assert text.startswith("# Benchmarks\n\nHand-written analysis.\n")
    assert text.count(report.BEGIN) == 1 and text.count(report.END) == 1
    assert "#### Targets (issue 13)" in text
    # every target of the issue has its row, measured or not
    for target in (
        "10M lines, csv.gz: dbt build",
        "10M lines, parquet: dbt build",
        "10M lines, parquet: staging + feature layers",
        "50M lines: peak memory",
        "10M -> 50M",
        "real data: dbt build < 15 s",
        "real data: 541,909 lines = staged + rejected",
    ):
        assert target in text
    assert "| tiny | csv.gz |" in text
    assert "| slowest nodes | layer | seconds |" in text
    assert "Command: `python python_jobs/benchmark.py --scales tiny" in text
    assert "dbt build wall times of 2 runs, each followed by the notebook's: " in text
    assert "The notebook's wall times: " in text
    assert "The floors (each the median of 2 runs): query " in text


def test_the_floor_target_adds_the_line_count_to_the_write(tmp_path, tiny_bench):
    """The staging + feature layers target states the two floors a fast
    path cannot avoid, added up in the same run."""
    results, _ = tiny_bench
    results = json.loads(json.dumps(results))
    (run,) = results["runs"]
    run["scale"] = "10m"
    run["floor"].update(
        seconds=2.0,
        write_seconds=5.0,
        count_seconds=1.5,
        typed_write_seconds=4.5,
        duplicates_seconds=1.0,
        features_seconds=0.4,
    )
    run["ratios"] = harness.ratios(run)
    path = tmp_path / "B.md"
    report.write_report(results, path)
    (row,) = [
        x
        for x in path.read_text().splitlines()
        if x.startswith("| 10M lines, csv.gz: staging + feature layers")
    ]
    assert (
        "(writing the lines alone: 5.0 s = 2.5 x floor; with each file's line "
        "count, 1.5 s: 3.2 x floor; the floors of the steps the issue asks, each "
        "alone: the lines written typed 4.5 s, the count, the duplicates' pass "
        "1.0 s and the features' pass 0.4 s: 3.70 x floor)"
    ) in row


def test_report_rewrites_only_its_own_part(tmp_path, tiny_bench):
    results, _ = tiny_bench
    path = tmp_path / "B.md"
    path.write_text(f"before\n{report.BEGIN}\nold numbers\n{report.END}\nafter\n")
    report.write_report(results, path)
    text = path.read_text()
    assert text.startswith("before\n") and text.endswith("\nafter\n")
    assert "old numbers" not in text and "| tiny | csv.gz |" in text


def test_report_shows_a_reference_that_failed(tmp_path, tiny_bench):
    """A notebook or floor that stops on the files (csv.gz-malformed) is
    reported as failed with its error, not with the time it ran."""
    results, _ = tiny_bench
    results = json.loads(json.dumps(results))
    (run,) = results["runs"]
    run["format"] = "csv.gz-malformed"
    run["notebook"] = {
        "returncode": 1,
        # a time no other cell of the row can hold (1.5 s was, inside 11.5 s)
        "wall_seconds": 1234.5,
        "error": "Traceback (most recent call last):\n  ...\n"
        "pandas.errors.ParserError: Error tokenizing data. C error: EOF inside string",
    }
    path = tmp_path / "B.md"
    report.write_report(results, path)
    text = path.read_text()
    (row,) = [
        x for x in text.splitlines() if x.startswith("| tiny | csv.gz-malformed |")
    ]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[11] == "failed" and "1234.5" not in row.replace(",", "")
    assert (
        "The notebook failed on these files: `pandas.errors.ParserError: "
        "Error tokenizing data. C error: EOF inside string`." in text
    )
    assert "The floor failed" not in text


def test_tiles_renumber_customers_and_invoices(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    for day, lines in REAL_LIKE_DAYS.items():
        with gzip.open(real / f"{day}.csv.gz", "wt", newline="") as handle:
            handle.write("\n".join([HEADER, *lines]) + "\n")
    scale = datasets.parse_scale("3x", real_available=True)
    assert scale.tiles == 3
    dataset = datasets.prepare(scale, "csv.gz", tmp_path / "cache", real_dir=real)
    assert dataset.files == 2
    written = gzip.open(Path(dataset.directory) / "raw" / "2010-12-01.csv.gz", "rt")
    lines = written.read().splitlines()
    # tile 0 is the real file, byte for byte; then each tile's copy in turn
    assert lines[: 1 + 3] == [HEADER, *REAL_LIKE_DAYS["2010-12-01"]]
    assert len(lines) == 1 + 3 * 3
    assert lines[4].startswith('1536365,85123A,"HANGING HEART, WHITE",6,')
    assert lines[4].endswith(",117850.0,United Kingdom")
    assert lines[5].startswith("C1536379,") and ",114527.0," in lines[5]
    assert lines[9].startswith("2536414,") and lines[9].endswith(",0.0,,United Kingdom")
    # cached: a second call writes nothing
    again = datasets.prepare(scale, "csv.gz", tmp_path / "cache", real_dir=real)
    assert again.seconds_to_write == dataset.seconds_to_write

    # the malformed variant: the same files, each with one line of
    # malformed quoting at the end; read by the same glob pattern
    malformed = datasets.prepare(
        scale, "csv.gz-malformed", tmp_path / "cache", real_dir=real
    )
    assert malformed.glob.endswith("*.csv.gz") and malformed.files == 2
    for path in sorted(Path(dataset.directory, "raw").glob("*.csv.gz")):
        clean = gzip.open(path, "rt").read().splitlines()
        broken = Path(malformed.directory, "raw", path.name)
        assert gzip.open(broken, "rt").read().splitlines() == [
            *clean,
            datasets.MALFORMED_LINE,
        ]
    assert datasets.MALFORMED_LINE.count('"') == 1

    parquet = datasets.prepare(scale, "parquet", tmp_path / "cache", real_dir=real)
    import duckdb

    customers, lines_count = duckdb.sql(
        f"select count(distinct CustomerID), count(*) from read_parquet('{parquet.glob}')"
    ).fetchone()
    assert (customers, lines_count) == (3 * 3, 3 * 4)


@pytest.mark.parametrize(
    ("text", "tiles"),
    [("real", 1), ("1m", 2), ("10m", 20), ("50m", 93), ("2x", 2), ("3m", 6)],
)
def test_scales_in_tiles_of_the_real_data(text, tiles):
    assert datasets.parse_scale(text, real_available=True).tiles == tiles


def test_scales_fall_back_to_the_generator():
    scale = datasets.parse_scale("10m", real_available=False)
    assert scale.tiles is None and scale.lines_target == 10_000_000
    assert datasets.parse_scale("tiny", real_available=True).tiles is None
    with pytest.raises(ValueError):
        datasets.parse_scale("huge", real_available=True)


def test_peak_memory_counts_the_whole_process_tree(tmp_path):
    # a parent holding ~60 MB and a child holding ~120 MB at the same time
    child = "x = bytearray(120 * 2**20); import time; time.sleep(3)"
    parent = (
        "import subprocess, sys; x = bytearray(60 * 2**20); "
        f"subprocess.run([sys.executable, '-c', {child!r}])"
    )
    started = time.time()
    measured = run_measured(
        [sys.executable, "-c", parent], log_path=tmp_path / "log", interval=0.1
    )
    assert measured.returncode == 0
    assert measured.peak_sampled_tree_rss_bytes > 170 * 2**20
    assert measured.peak_tree_rss_bytes >= measured.peak_sampled_tree_rss_bytes
    assert tree_rss_bytes(os.getpid()) > 0
    assert tree_rss_bytes(1) > 0  # the whole machine's tree
    # the peak is timed: after the start and before the end of the command
    assert started < measured.peak_at < started + measured.wall_seconds + 1


def test_the_peak_is_placed_among_the_nodes_running_then():
    def node(name, start, end):
        return NodeTiming(
            f"model.p.{name}", "model", "staging", "success", 1.0, start, end
        )

    nodes = [node("a", 10.0, 20.0), node("b", 15.0, 30.0), node("c", 31.0, 40.0)]

    def at(moment):
        measured = Measured(0, 1.0, 1, 1, 1, 1, Path("log"), peak_at=moment)
        return BuildResult(measured, Path("w"), nodes=nodes).nodes_at_peak()

    assert at(16.0) == ["model.p.a", "model.p.b"]
    assert at(35.0) == ["model.p.c"]
    assert at(30.5) == [] and at(None) == []


def test_the_median_run_is_a_real_run_and_a_failure_wins():
    def run(wall, returncode=0):
        return {"returncode": returncode, "wall_seconds": wall, "peak_rss_bytes": 1}

    three = harness.median_run([run(14.0), run(19.5), run(16.1)])
    assert three["wall_seconds"] == 16.1
    assert [r["wall_seconds"] for r in three["runs"]] == [14.0, 19.5, 16.1]
    # an even count: the slower middle run, never an average of two runs
    assert harness.median_run([run(3.0), run(1.0)])["wall_seconds"] == 3.0
    assert harness.median_run([run(7.0)])["runs"] == [
        {"wall_seconds": 7.0, "peak_rss_bytes": 1}
    ]
    # a failed or skipped run is what the report must show
    failed = harness.median_run([run(2.0), run(5.0, returncode=1), run(3.0)])
    assert failed["returncode"] == 1 and len(failed["runs"]) == 3
    skipped = harness.median_run([{"skipped": "--skip-notebook"}])
    assert skipped["skipped"] == "--skip-notebook"


def test_scales_above_the_notebook_limit_are_built_once():
    args = harness.build_parser().parse_args(["--repeats", "3"])
    ten = datasets.parse_scale("10m", real_available=True)
    fifty = datasets.parse_scale("50m", real_available=True)
    assert harness._repeats_at(ten, args) == 3
    assert harness._repeats_at(fifty, args) == 1
    with pytest.raises(SystemExit, match="--repeats: 0"):
        harness._repeats_at(ten, harness.build_parser().parse_args(["--repeats", "0"]))


def test_parquet_runs_only_at_the_parquet_scales():
    assert harness._format_runs_at("csv.gz", "tiny", "10m")
    assert harness._format_runs_at("parquet", "10m", "10m")
    assert not harness._format_runs_at("parquet", "50m", "10m")
    assert harness._format_runs_at("parquet", "50m", "all")


def test_the_tiny_build_says_which_reader_read_each_file(tiny_bench):
    results, text = tiny_bench
    build = results["runs"][0]["build"]
    readers = build["files_by_reader"]
    assert set(readers) <= {"native_reader", "line_exact_reader", "no line"}
    # the fast path is taken: most generated files are clean
    assert readers.get("native_reader", 0) > sum(readers.values()) / 2
    assert build["lines_accounted"] == build["lines"]
    # the report says what ran at the memory peak
    assert set(build["nodes_at_peak"]) <= {node["unique_id"] for node in build["nodes"]}
    assert "Peak memory " in text and " sampled while dbt ran: " in text
    assert (
        "Files by the reader that read them: "
        + ", ".join(f"{name} {count}" for name, count in readers.items())
        + "."
    ) in text
