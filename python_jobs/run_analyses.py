"""Run the exploratory SQL in analyses/ against the warehouse; save CSVs.

The ``make eda`` command. It compiles every analysis with ``dbt compile``
(so each ``ref()`` resolves to the warehouse's relations and the analyses
stay in the lineage), runs each compiled query on the warehouse opened
read-only, and writes one CSV per analysis, in the folder layout of
``analyses/``, plus ``index.csv`` listing them with the description from
each file's header comment. The report (``make report``) draws its
figures from analyses too, through :func:`compile_analyses`,
:func:`run_compiled` and :func:`open_read_only`.

The warehouse is ``DUCKDB_PATH`` (default ``warehouse/segmentation.duckdb``),
as for ``dbt build``. Example::

    python python_jobs/run_analyses.py --out reports/eda \\
        --vars '{raw_transactions: "../shared/data/online_retail/*.csv.gz"}'
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WAREHOUSE = "warehouse/segmentation.duckdb"
DEFAULT_OUT = "reports/eda"
INDEX_FILE = "index.csv"
INDEX_COLUMNS = (
    "analysis",
    "folder",
    "description",
    "csv_file",
    "row_count",
    "column_count",
    "seconds",
    "source_file",
)

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_JINJA_COMMENT = re.compile(r"^\s*\{#-?(.*?)-?#\}", re.DOTALL)


class AnalysisError(Exception):
    """A failure to report in one paragraph, without a traceback."""


@dataclass(frozen=True)
class CompiledAnalysis:
    """One analysis that dbt compiled: its name, source and compiled SQL."""

    name: str
    folder: str
    source_file: Path
    compiled_file: Path

    @property
    def description(self) -> str:
        """The header comment of the source file, on one line."""
        return header_comment(self.source_file.read_text(encoding="utf-8"))


def _display_path(path: Path) -> str:
    """A path relative to the project where it lies inside it."""
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def progress(message: str) -> None:
    """Print one progress line to stderr."""
    print(f"eda: {message}", file=sys.stderr, flush=True)


def header_comment(sql: str) -> str:
    """Return the leading ``{# ... #}`` or ``--`` comment of an SQL file.

    Parameters
    ----------
    sql : str
        The source of an analysis.

    Returns
    -------
    str
        The comment with its whitespace collapsed; empty when there is none.
    """
    match = _JINJA_COMMENT.match(sql)
    if match:
        text = match.group(1)
    else:
        lines = []
        for line in sql.lstrip().splitlines():
            if not line.startswith("--"):
                break
            lines.append(line[2:])
        text = " ".join(lines)
    return " ".join(text.split())


def resolve_warehouse(path: str | os.PathLike | None = None) -> Path:
    """Return the warehouse file: ``path``, else ``DUCKDB_PATH``, else the default.

    The same file dbt builds; `make eda` and `make report` both read it.

    Raises
    ------
    AnalysisError
        When no warehouse file exists there yet.
    """
    warehouse = Path(path or os.environ.get("DUCKDB_PATH") or DEFAULT_WAREHOUSE)
    if not warehouse.is_absolute():
        warehouse = (Path.cwd() / warehouse).resolve()
    if not warehouse.is_file():
        raise AnalysisError(
            f"No warehouse at {warehouse}: the analyses query the tables that "
            "`dbt build` makes, so there is nothing to run them on yet. Run "
            "`make run` first, or point DUCKDB_PATH at a built warehouse file."
        )
    return warehouse


def _dbt_executable() -> str:
    beside_python = Path(sys.executable).with_name("dbt")
    return str(beside_python) if beside_python.exists() else "dbt"


def _dbt_error_summary(output: str) -> str:
    """The lines of dbt's output that say what went wrong, on one line."""
    lines = [_ANSI.sub("", line).strip() for line in output.splitlines()]
    lines = [re.sub(r"^\d\d:\d\d:\d\d\s+", "", line) for line in lines if line]
    start = next(
        (i for i, line in enumerate(lines) if "error" in line.lower()),
        max(len(lines) - 8, 0),
    )
    return " ".join(lines[start : start + 12])


def compile_analyses(
    warehouse: Path,
    target_path: Path,
    dbt_vars: str | None = None,
    log_path: Path | None = None,
    names: Sequence[str] | None = None,
) -> list[CompiledAnalysis]:
    """Compile the analyses with dbt; return what was compiled.

    Parameters
    ----------
    warehouse : Path
        The warehouse file, passed to dbt as ``DUCKDB_PATH``.
    target_path : Path
        dbt's target folder; compiled SQL lands under ``compiled/``.
    dbt_vars : str, optional
        dbt ``--vars`` (YAML or JSON), passed through unchanged.
    log_path : Path, optional
        dbt's log folder (default: dbt's own, ``logs/``).
    names : sequence of str, optional
        Compile only the analyses of these names (default: every one).

    Returns
    -------
    list of CompiledAnalysis
        The analyses of this compile, sorted by source path. Compiled files
        that an earlier compile left behind are not included.
    """
    command = [
        _dbt_executable(),
        "compile",
        "--select",
        *(names or ["path:analyses"]),
        "--target-path",
        str(target_path),
        *(["--log-path", str(log_path)] if log_path else []),
        *(["--vars", dbt_vars] if dbt_vars else []),
    ]
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": os.environ.get("DBT_PROFILES_DIR") or str(PROJECT_ROOT),
        "DUCKDB_PATH": str(warehouse),
    }
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise AnalysisError(
            "dbt could not compile the analyses (`dbt compile --select "
            f"{' '.join(names or ['path:analyses'])}` exited with {done.returncode}): "
            f"{_dbt_error_summary(done.stdout + done.stderr)}"
        )
    target = target_path if target_path.is_absolute() else PROJECT_ROOT / target_path
    run_results = json.loads((target / "run_results.json").read_text())
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    analyses = []
    for result in run_results["results"]:
        node = nodes.get(result["unique_id"])
        if node is None or node["resource_type"] != "analysis":
            continue
        source_file = PROJECT_ROOT / node["original_file_path"]
        compiled_file = Path(node["compiled_path"])
        if not compiled_file.is_absolute():
            compiled_file = PROJECT_ROOT / compiled_file
        analyses.append(
            CompiledAnalysis(
                name=node["name"],
                folder=str(
                    Path(node["original_file_path"]).parent.relative_to("analyses")
                ),
                source_file=source_file,
                compiled_file=compiled_file,
            )
        )
    missing = sorted(set(names or []) - {analysis.name for analysis in analyses})
    if missing or not analyses:
        raise AnalysisError(
            "dbt compiled no analysis named "
            f"{', '.join(missing) or 'at all'}: there is no such .sql file "
            f"under {PROJECT_ROOT / 'analyses'}."
        )
    return sorted(analyses, key=lambda analysis: analysis.source_file)


def open_read_only(database: Path) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file read-only with the profile's thread and memory caps.

    The one way `make eda` and `make report` open the warehouse and the
    publication: many readers may hold a file open, never beside its writer.

    Raises
    ------
    AnalysisError
        When the file cannot be opened, for example while a build writes it.
    """
    config = {
        "threads": int(os.environ.get("DUCKDB_THREADS", "2")),
        "memory_limit": os.environ.get("DUCKDB_MEMORY_LIMIT", "4GB"),
    }
    try:
        return duckdb.connect(str(database), read_only=True, config=config)
    except duckdb.Error as error:
        raise AnalysisError(
            f"Could not open {database} read-only: "
            f"{str(error).splitlines()[0]} If a dbt build is writing to it, "
            "wait for the build to finish and run again."
        ) from None


def run_compiled(
    con: duckdb.DuckDBPyConnection, analysis: CompiledAnalysis
) -> pd.DataFrame:
    """Run one compiled analysis; return its result.

    Raises
    ------
    AnalysisError
        Naming the analysis whose query failed.
    """
    sql = analysis.compiled_file.read_text(encoding="utf-8")
    try:
        return con.execute(sql).df()
    except duckdb.Error as error:
        raise AnalysisError(
            f"Analysis {_display_path(analysis.source_file)} failed: "
            f"{' '.join(str(error).split())} Fix the query, or rebuild the "
            "warehouse (`make run`) if a relation it reads is missing or out "
            "of date."
        ) from None


def _remove_previous_outputs(out_dir: Path) -> None:
    """Delete the CSVs an earlier run listed in its index (and nothing else)."""
    index = out_dir / INDEX_FILE
    if not index.is_file():
        return
    with index.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            old = (out_dir / row.get("csv_file", "")).resolve()
            if old.suffix == ".csv" and old.is_relative_to(out_dir.resolve()):
                old.unlink(missing_ok=True)


def run_analyses(
    analyses: Sequence[CompiledAnalysis], warehouse: Path, out_dir: Path
) -> list[dict]:
    """Run each compiled analysis on the warehouse and write its CSV.

    Parameters
    ----------
    analyses : sequence of CompiledAnalysis
        What :func:`compile_analyses` returned.
    warehouse : Path
        The DuckDB file, opened read-only.
    out_dir : Path
        Gets ``<folder>/<analysis>.csv`` for each analysis and ``index.csv``.

    Returns
    -------
    list of dict
        The rows of the index, one per analysis.

    Raises
    ------
    AnalysisError
        Naming the analysis whose query failed.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_previous_outputs(out_dir)
    index = []
    with open_read_only(warehouse) as con:
        for number, analysis in enumerate(analyses, start=1):
            started = time.perf_counter()
            frame = run_compiled(con, analysis)
            csv_file = Path(analysis.folder) / f"{analysis.name}.csv"
            (out_dir / csv_file).parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(out_dir / csv_file, index=False)
            seconds = time.perf_counter() - started
            progress(
                f"[{number}/{len(analyses)}] {analysis.folder}/{analysis.name}: "
                f"{len(frame)} rows in {seconds:.2f} s"
            )
            index.append(
                {
                    "analysis": analysis.name,
                    "folder": analysis.folder,
                    "description": analysis.description,
                    "csv_file": csv_file.as_posix(),
                    "row_count": len(frame),
                    "column_count": len(frame.columns),
                    "seconds": round(seconds, 3),
                    "source_file": _display_path(analysis.source_file),
                }
            )
    with (out_dir / INDEX_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=INDEX_COLUMNS)
        writer.writeheader()
        writer.writerows(index)
    return index


def command_parser(
    description: str, out_default: str, out_help: str
) -> argparse.ArgumentParser:
    """A parser with ``--out`` and the options passed on to `dbt compile`.

    Shared by `make eda` (this script) and `make report` (make_report.py).
    """
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path(out_default), help=out_help)
    parser.add_argument(
        "--target-path",
        type=Path,
        default=Path("target"),
        help="dbt target folder for the compiled SQL",
    )
    parser.add_argument(
        "--vars", dest="dbt_vars", help="dbt --vars, passed to dbt compile as is"
    )
    parser.add_argument(
        "--log-path", type=Path, help="dbt log folder (default: dbt's, logs/)"
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    return command_parser(
        __doc__.split("\n\n")[0], DEFAULT_OUT, "folder for the CSVs and index.csv"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Compile and run the analyses; return the exit code."""
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        warehouse = resolve_warehouse()
        progress(f"compiling analyses/ with dbt (warehouse {warehouse})")
        analyses = compile_analyses(
            warehouse,
            args.target_path.resolve(),
            args.dbt_vars,
            args.log_path.resolve() if args.log_path else None,
        )
        progress(f"running {len(analyses)} analyses read-only")
        index = run_analyses(analyses, warehouse, args.out.resolve())
    except AnalysisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    progress(
        f"wrote {len(index)} CSVs and {INDEX_FILE} to {args.out} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
