"""``make bench``: the pipeline against the notebook and the floor, per scale.

For every scale: the data (cached, :mod:`bench.datasets`), then on the same
files the DuckDB floors, the full ``dbt build`` into a fresh warehouse
and the pandas notebook, each in its own measured subprocess, all three
``--repeats`` times over; each is reported as its median run. Results go to
a JSON file in the work folder and to the generated part of
``BENCHMARKS.md`` (between the ``bench:results`` markers; prose outside them
is kept).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from . import datasets
from .dbt_build import FEATURE_LAYERS, BuildResult, run_build
from .floor_reference import STEP_FLOORS as STAGING_STEP_FLOORS
from .monitor import run_measured
from .report import write_report

PROJECT_ROOT = datasets.PROJECT_ROOT
DEFAULT_SCALES = "real,1m,10m,50m"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "segmentation-bench"
#: The notebook holds every line in pandas (about 0.3 GB per million lines
#: measured at 10M); above this many lines it is skipped unless asked for.
NOTEBOOK_MAX_LINES = 12_000_000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchmark.py",
        description="Benchmark dbt build against the pandas notebook and the "
        "DuckDB floor at several scales; writes BENCHMARKS.md.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--scales",
        default=DEFAULT_SCALES,
        help="comma-separated: tiny (generated), real (the real data once), 1m, 10m, "
        "50m (the issue's 2, 20 and 93 copies of the real data), other <N>m / <N>k "
        "lines (rounded up to whole copies), <N>x copies",
    )
    parser.add_argument(
        "--format",
        default="csv.gz,parquet",
        help="raw file format(s) the build and the references read, comma-separated "
        f"from {', '.join(datasets.FORMATS)}",
    )
    parser.add_argument(
        "--parquet-scales",
        default="10m",
        help="the scales at which the parquet format (when in --format) is run; "
        "'all' for every scale",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_CACHE / "data",
        help="cache of the data of each scale (written once)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="warehouses, dbt target/logs and results.json "
        f"(default: a new folder under {DEFAULT_CACHE / 'runs'})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=PROJECT_ROOT / "BENCHMARKS.md",
        help="the report to write (its generated part)",
    )
    parser.add_argument(
        "--real-data-dir",
        type=Path,
        default=datasets.REAL_DATA_DIR,
        help="the real Online Retail *.csv.gz files (generated data when absent)",
    )
    parser.add_argument(
        "--notebook-max-lines",
        type=int,
        default=NOTEBOOK_MAX_LINES,
        help="skip the pandas notebook above this many lines (its memory grows "
        "with the lines)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="dbt builds per scale, each followed by a notebook run (build, "
        "notebook, build, ...); the report gives the median run of each, so a "
        "ratio compares runs made minutes apart. A scale above "
        "--notebook-max-lines is built once",
    )
    parser.add_argument("--skip-notebook", action="store_true")
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument(
        "--no-parquet-floor",
        action="store_true",
        help="do not also time the floor on a Parquet copy of CSV data",
    )
    parser.add_argument(
        "--keep-warehouses", action="store_true", help="keep each build's warehouse"
    )
    parser.add_argument(
        "--report-from",
        type=Path,
        default=None,
        help="only rewrite the report from an earlier results.json",
    )
    return parser


def machine_facts() -> dict:
    """Cores, memory, CPU model, load and versions of the benchmark machine."""
    facts: dict = {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                facts["memory_bytes"] = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    facts["load_average"] = [round(x, 2) for x in os.getloadavg()]
    facts["git"] = _git_revision()
    versions = {}
    for package in ("dbt-core", "dbt-duckdb", "duckdb", "pandas", "scikit-learn"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:  # noqa: BLE001 - a missing package is only not reported
            versions[package] = None
    facts["versions"] = versions
    return facts


def _git_revision() -> str | None:
    """The measured code: HEAD, and how many files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--",
                "models",
                "macros",
                "seeds",
                "python_jobs",
                "dbt_project.yml",
                "profiles.yml",
            ],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + (f" + {len(changed)} changed files" if changed else "")


def _reference(script: str, pattern: str, log: Path) -> dict:
    """Run a reference script in a measured subprocess; its JSON plus the measure."""
    measured = run_measured(
        [sys.executable, str(Path(__file__).with_name(script)), pattern],
        log_path=log,
        cwd=PROJECT_ROOT,
    )
    outcome: dict = {
        "returncode": measured.returncode,
        "wall_seconds": round(measured.wall_seconds, 3),
        "peak_rss_bytes": measured.peak_tree_rss_bytes,
    }
    if measured.returncode == 0:
        lines = [x for x in log.read_text().splitlines() if x.startswith("{")]
        outcome.update(json.loads(lines[-1]))
    else:
        outcome["error"] = measured.output_tail(2000)
    return outcome


def _build_record(build: BuildResult) -> dict:
    """The measured dbt build as the benchmark record's ``build`` entry."""
    return {
        "returncode": build.measured.returncode,
        "wall_seconds": round(build.measured.wall_seconds, 3),
        "dbt_elapsed_seconds": None
        if build.elapsed_seconds is None
        else round(build.elapsed_seconds, 3),
        "first_parse_seconds": None
        if build.parse_seconds is None
        else round(build.parse_seconds, 3),
        "peak_rss_bytes": build.measured.peak_tree_rss_bytes,
        "peak_sampled_tree_rss_bytes": build.measured.peak_sampled_tree_rss_bytes,
        "max_single_process_rss_bytes": build.measured.max_single_rss_bytes,
        "peak_spill_bytes": build.measured.peak_spill_bytes,
        "rss_samples": build.measured.samples,
        "nodes_at_peak": build.nodes_at_peak(),
        "layers": {k: round(v, 3) for k, v in build.layer_seconds().items()},
        "feature_layer_seconds": round(build.feature_layer_seconds(), 3),
        "nodes": [
            {
                "unique_id": n.unique_id,
                "layer": n.layer,
                "status": n.status,
                "seconds": round(n.seconds, 3),
            }
            for n in build.slowest(len(build.nodes))
        ],
        **build.facts,
    }


def run_scale(
    scale: datasets.Scale,
    file_format: str,
    args: argparse.Namespace,
    workdir: Path,
    real_dir: Path,
) -> dict:
    log = _logger()
    dataset = datasets.prepare(scale, file_format, args.data_dir, real_dir=real_dir)
    log(
        f"[{scale.name} {file_format}] data: {dataset.files} files, "
        f"{dataset.bytes / 1e6:.0f} MB in {dataset.directory}"
    )
    record: dict = {
        "scale": scale.name,
        "format": file_format,
        "source": dataset.source,
        "tiles": dataset.tiles,
        "data": dataset.glob,
        "data_bytes": dataset.bytes,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    run_dir = workdir / f"{scale.name}-{file_format.replace('.', '_')}"

    parquet_glob = None
    if file_format != "parquet" and not args.no_parquet_floor and not args.skip_floor:
        parquet_glob = datasets.prepare(
            scale, "parquet", args.data_dir, real_dir=real_dir
        ).glob
    repeats = _repeats_at(scale, args)
    floors: list[dict] = []
    floors_parquet: list[dict] = []
    builds: list[dict] = []
    notebooks: list[dict] = []
    for attempt in range(1, repeats + 1):
        label = f"{scale.name}" + (f" {attempt}/{repeats}" if repeats > 1 else "")
        suffix = "" if attempt == 1 else f"-{attempt}"
        if not args.skip_floor:
            floors.append(
                _reference(
                    "floor_reference.py", dataset.glob, run_dir / f"floor{suffix}.log"
                )
            )
            floor = floors[-1]
            log(
                f"[{label}] floor: {floor.get('seconds')} s, write floor "
                f"{floor.get('write_seconds')} s"
                + (
                    ""
                    if floor.get("count_seconds") is None
                    else f", count floor {floor['count_seconds']} s"
                )
                + "".join(
                    f", {name} {floor[key]} s"
                    for key, name in STAGING_STEP_FLOORS.items()
                    if floor.get(key) is not None
                )
            )
        if parquet_glob is not None:
            floors_parquet.append(
                _reference(
                    "floor_reference.py",
                    parquet_glob,
                    run_dir / f"floor_parquet{suffix}.log",
                )
            )
            log(f"[{label}] floor on Parquet: {floors_parquet[-1].get('seconds')} s")
        build_dir = run_dir / ("build" if repeats == 1 else f"build-{attempt}")
        builds.append(_measured_build(dataset.glob, build_dir, args, log, label))
        if builds[-1]["returncode"] != 0:
            break
        lines = builds[-1].get("lines") or scale.lines_target
        notebook = _notebook(dataset.glob, lines, args, run_dir, attempt)
        notebooks.append(notebook)
        if notebook.get("returncode") == 0:
            log(
                f"[{label}] notebook: {notebook.get('wall_seconds')} s, "
                f"k={notebook.get('best_k')}"
            )
        elif "skipped" not in notebook:
            log(
                f"[{label}] notebook: failed (exit status {notebook.get('returncode')})"
            )
    if floors:
        record["floor"] = median_floor(floors)
    if floors_parquet:
        record["floor_parquet"] = median_floor(floors_parquet)
    record["build"] = median_run(builds)
    record["notebook"] = median_run(notebooks) if notebooks else {}
    record["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    record["ratios"] = ratios(record)
    return record


def _repeats_at(scale: datasets.Scale, args: argparse.Namespace) -> int:
    """--repeats, but one build for a scale above --notebook-max-lines (its
    build takes minutes and no notebook runs beside it)."""
    if args.repeats < 1:
        raise SystemExit(f"--repeats: {args.repeats} is not a positive number")
    if scale.lines_target > args.notebook_max_lines:
        return 1
    return args.repeats


def _measured_build(
    raw_glob: str, build_dir: Path, args: argparse.Namespace, log, label: str
) -> dict:
    """One measured ``dbt build`` into a fresh warehouse, as its record."""
    build = run_build(raw_glob, build_dir)
    record = _build_record(build)
    if not build.ok:
        record["error"] = build.measured.output_tail(3000)
    log(
        f"[{label}] dbt build: rc={build.measured.returncode} "
        f"{build.measured.wall_seconds:.1f} s, "
        f"peak {build.measured.peak_tree_rss_bytes / 1e9:.2f} GB"
    )
    if build.ok and build.facts.get("customers"):
        record["customers_per_second"] = round(
            build.facts["customers"] / build.measured.wall_seconds, 1
        )
    if not args.keep_warehouses:
        build.warehouse.unlink(missing_ok=True)
        shutil.rmtree(build_dir / "published", ignore_errors=True)
    return record


def _notebook(
    raw_glob: str, lines: int, args: argparse.Namespace, run_dir: Path, attempt: int
) -> dict:
    """The notebook on the build's files (``lines`` of them), or why it is
    skipped."""
    if args.skip_notebook:
        return {"skipped": "--skip-notebook"}
    if lines > args.notebook_max_lines:
        return {
            "skipped": f"{lines:,} lines > --notebook-max-lines "
            f"{args.notebook_max_lines:,}"
        }
    name = "notebook.log" if attempt == 1 else f"notebook-{attempt}.log"
    return _reference("notebook_reference.py", raw_glob, run_dir / name)


def _middle(items: list, key=None):
    """The median item (of an even count, the slower of the two middle
    ones): always one measured value, never an average of two."""
    return sorted(items, key=key)[len(items) // 2]


def median_run(records: list[dict]) -> dict:
    """The record of the median run by wall time (of an even count, the
    slower of the two middle runs), with every run's times under ``runs``.
    A run that failed or was skipped is the record instead: the report
    must show it."""
    summary = [
        {
            key: record[key]
            for key in ("wall_seconds", "dbt_elapsed_seconds", "peak_rss_bytes")
            if key in record
        }
        for record in records
    ]
    trouble = [r for r in records if r.get("returncode") != 0 or "skipped" in r]
    if trouble:
        chosen = trouble[0]
    else:
        chosen = _middle(records, key=lambda r: r["wall_seconds"])
    return {**chosen, "runs": summary}


def median_floor(records: list[dict]) -> dict:
    """The floor references' times, each the median of its runs (of an even
    count, the slower middle one), with every run under ``runs``. A failed
    run is the record instead."""
    failed = [r for r in records if r.get("returncode") != 0]
    if failed:
        return {**failed[0], "runs": records}
    chosen = dict(records[0])
    for key in (
        "seconds",
        "write_seconds",
        "count_seconds",
        *STAGING_STEP_FLOORS,
        "wall_seconds",
    ):
        values = [r[key] for r in records if r.get(key) is not None]
        if values:
            chosen[key] = _middle(values)
    return {**chosen, "runs": records}


def ratios(record: dict) -> dict:
    """dbt build / notebook (wall), feature layers / floor query, the write
    floor (every line written once) / floor query, the write floor plus
    the count floor (each file's lines counted) / floor query, and the
    steps' floors (typed write, count, duplicates, features) / floor query."""
    out: dict = {}
    build = record.get("build", {})
    notebook = record.get("notebook", {})
    floor = record.get("floor", {})
    if build.get("returncode") == 0 and notebook.get("returncode") == 0:
        out["build_over_notebook"] = round(
            build["wall_seconds"] / notebook["wall_seconds"], 3
        )
    if build.get("returncode") == 0 and floor.get("seconds"):
        out["feature_layers_over_floor"] = round(
            build["feature_layer_seconds"] / floor["seconds"], 2
        )
        out["build_over_floor"] = round(build["wall_seconds"] / floor["seconds"], 1)
    if floor.get("seconds") and floor.get("write_seconds"):
        out["write_floor_over_floor"] = round(
            floor["write_seconds"] / floor["seconds"], 2
        )
        if floor.get("count_seconds") is not None:
            out["write_and_count_floors_over_floor"] = round(
                (floor["write_seconds"] + floor["count_seconds"]) / floor["seconds"], 3
            )
    steps = [floor.get(key) for key in ("count_seconds", *STAGING_STEP_FLOORS)]
    if floor.get("seconds") and all(value is not None for value in steps):
        out["staging_steps_floors_over_floor"] = round(sum(steps) / floor["seconds"], 3)
    return out


def _format_runs_at(file_format: str, scale: str, parquet_scales: str) -> bool:
    """Parquet runs only at --parquet-scales ('all': everywhere)."""
    if file_format != "parquet" or parquet_scales.strip() == "all":
        return True
    return scale in {name.strip() for name in parquet_scales.split(",")}


def _logger():
    def log(message: str) -> None:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        print(f"{stamp} {message}", file=sys.stderr, flush=True)

    return log


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.report_from:
        results = json.loads(args.report_from.read_text())
        for run in results.get("runs", []):
            run["ratios"] = ratios(run)  # derived: older results lack some
        write_report(results, args.output)
        print(f"wrote {args.output}")
        return 0

    real_available = datasets.real_data_available(args.real_data_dir)
    scales = [
        datasets.parse_scale(s, real_available)
        for s in args.scales.split(",")
        if s.strip()
    ]
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    for file_format in formats:
        if file_format not in datasets.FORMATS:
            raise SystemExit(
                f"--format: {file_format!r} is not one of {datasets.FORMATS}"
            )
    workdir = args.work_dir or (
        DEFAULT_CACHE / "runs" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    )
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "started_at": dt.datetime.now().isoformat(timespec="seconds"),
        "command": "python python_jobs/benchmark.py "
        + " ".join(
            shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
        ),
        "machine": machine_facts(),
        "real_data": str(args.real_data_dir) if real_available else None,
        "feature_layers": list(FEATURE_LAYERS),
        "runs": [],
    }
    results_path = workdir / "results.json"
    for scale in scales:
        for file_format in formats:
            if not _format_runs_at(file_format, scale.name, args.parquet_scales):
                continue
            record = run_scale(scale, file_format, args, workdir, args.real_data_dir)
            results["runs"].append(record)
            results_path.write_text(json.dumps(results, indent=2) + "\n")
    results["finished_at"] = dt.datetime.now().isoformat(timespec="seconds")
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    write_report(results, args.output)
    print(f"results: {results_path}\nreport: {args.output}")
    failed = [r["scale"] for r in results["runs"] if r["build"]["returncode"] != 0]
    if failed:
        print(f"dbt build failed at: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
