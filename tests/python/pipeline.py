"""Run the project's own commands from tests: the generator and dbt.

Each run gets its own warehouse file, target and log folders, so tests never
share state with each other or with a developer's `make run`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REAL_DATA_GLOB = PROJECT_ROOT.parent / "shared" / "data" / "online_retail" / "*.csv.gz"
DBT = Path(sys.executable).with_name("dbt")


@dataclass
class DbtRun:
    """The outcome of one dbt command."""

    returncode: int
    output: str
    warehouse: Path

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.sql(sql).fetchall()


def generate_data(
    out_dir: Path, customers: int, seed: int = 42, extra: list[str] | None = None
) -> Path:
    """Write generated raw files into out_dir/raw; return the raw folder."""
    raw = out_dir / "raw"
    cmd = [
        sys.executable,
        str(PROJECT_ROOT / "python_jobs" / "generate_data.py"),
        "--out",
        str(raw),
        "--customers",
        str(customers),
        "--seed",
        str(seed),
        *(extra or []),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=PROJECT_ROOT)
    return raw


def dbt(
    command: str,
    workdir: Path,
    variables: dict | None = None,
    args: list[str] | None = None,
    env: dict | None = None,
) -> DbtRun:
    """Run `dbt <command>` on the project with its own warehouse in workdir."""
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = workdir / "warehouse.duckdb"
    cmd = [
        str(DBT),
        command,
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
        *(["--vars", json.dumps(variables)] if variables else []),
        *(args or []),
    ]
    run_env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_ROOT),
        "DUCKDB_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "BI_DUCKDB_PATH": str(workdir / "published" / "segments.duckdb"),
        **(env or {}),
    }
    done = subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=run_env, capture_output=True, text=True
    )
    return DbtRun(done.returncode, done.stdout + done.stderr, warehouse)
