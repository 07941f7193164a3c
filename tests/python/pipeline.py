"""Run the project's own commands from tests: the generator, dbt and tools.

Each run gets its own warehouse file, target and log folders, so tests never
share state with each other or with a developer's `make run`.

Every subprocess goes through :func:`run_command`, which stops it (and the
processes it started) after a timeout and fails the test with the command
and the tail of its output: a hung build fails CI instead of hanging it.
"""

from __future__ import annotations

import glob
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REAL_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data" / "online_retail"
REAL_DATA_GLOB = REAL_DATA_DIR / "*.csv.gz"
DBT = Path(sys.executable).with_name("dbt")

# Seconds a test subprocess may run: a full build on the real data takes about
# a minute on a busy 2-core machine; TEST_SUBPROCESS_TIMEOUT overrides it.
SUBPROCESS_TIMEOUT = float(os.environ.get("TEST_SUBPROCESS_TIMEOUT", "900"))
OUTPUT_TAIL = 5000
# TEST_COMMAND_LOG=file: every command run_command runs is appended to the
# file as one JSON line (test, command, seconds, exit status), to count the
# dbt invocations of each test file and what they cost.
COMMAND_LOG = os.environ.get("TEST_COMMAND_LOG")


def select_with_ancestors(*models: str) -> list[str]:
    """dbt build arguments that build `models` and their ancestors, with the
    tests whose every parent is built (cautious: a test on an unbuilt model
    would fail)."""
    return [
        "--select",
        *(f"+{model}" for model in models),
        "--indirect-selection",
        "cautious",
    ]


def in_ci() -> bool:
    """True when the environment variable CI is set (CI=true on CI runners)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_real_data() -> Path:
    """The glob of the real data files; fails in CI, skips elsewhere, when absent."""
    if not glob.glob(str(REAL_DATA_GLOB)):
        missing(
            f"the real Online Retail data ({REAL_DATA_GLOB}: "
            "../shared/data/online_retail beside the project)"
        )
    return REAL_DATA_GLOB


def require_tool(name: str) -> Path:
    """A command of the venv (or PATH) that requirements.txt installs.

    Missing, it fails the test, in CI and elsewhere alike: the install is
    broken, and a skip would hide it.
    """
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found:
        return Path(found)
    pytest.fail(
        f"the `{name}` command is missing (pip install -r requirements.txt "
        "installs it)",
        pytrace=False,
    )


def missing(what: str) -> None:
    """Fail (in CI) or skip (elsewhere) because `what` is missing."""
    if in_ci():
        pytest.fail(f"CI is set and {what} is missing", pytrace=False)
    pytest.skip(f"{what} is missing")


def tail(text: str, characters: int = OUTPUT_TAIL) -> str:
    return text if len(text) <= characters else "..." + text[-characters:]


def run_command(
    cmd: list[str],
    *,
    cwd: Path = PROJECT_ROOT,
    env: dict | None = None,
    timeout: float | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a command to its end, output captured (stdout and stderr apart).

    Past `timeout` seconds (default SUBPROCESS_TIMEOUT) the command's whole
    process group is killed and the test fails with the command and the tail
    of what it printed. With `check`, a non-zero exit fails the test the same
    way.
    """
    timeout = SUBPROCESS_TIMEOUT if timeout is None else timeout
    started = time.monotonic()
    process = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        stdout, stderr = process.communicate()
        pytest.fail(
            f"timed out after {timeout:.0f} s and was killed: {shlex.join(cmd)}\n"
            f"--- last output ---\n{tail(stdout + stderr)}",
            pytrace=False,
        )
    done = subprocess.CompletedProcess(cmd, process.returncode, stdout, stderr)
    log_command(cmd, time.monotonic() - started, process.returncode)
    if check and done.returncode != 0:
        pytest.fail(
            f"exit status {done.returncode}: {shlex.join(cmd)}\n"
            f"--- last output ---\n{tail(stdout + stderr)}",
            pytrace=False,
        )
    return done


def log_command(cmd: list[str], seconds: float, returncode: int | None) -> None:
    """Append one line about a finished command to TEST_COMMAND_LOG, if set."""
    if not COMMAND_LOG:
        return
    entry = {
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0],
        "command": [Path(cmd[0]).name, *cmd[1:3]],
        "seconds": round(seconds, 1),
        "returncode": returncode,
    }
    with open(COMMAND_LOG, "a") as handle:
        handle.write(json.dumps(entry) + "\n")


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL a process started with start_new_session and all it started."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


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
    """Write generated raw files into out_dir/raw; return the raw folder.

    The ground truth lands in out_dir/ground_truth.
    """
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
    run_command(cmd, check=True)
    return raw


def dbt_environment(workdir: Path, env: dict | None = None) -> dict:
    """The environment of a dbt run whose warehouse and publication are in workdir."""
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_ROOT),
        "DBT_PROJECT_ROOT": str(PROJECT_ROOT),
        "DUCKDB_PATH": str(workdir / "warehouse.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "BI_DUCKDB_PATH": str(workdir / "published" / "segments.duckdb"),
        **(env or {}),
    }


def dbt_command(
    command: str,
    workdir: Path,
    variables: dict | None = None,
    args: list[str] | None = None,
) -> list[str]:
    """`dbt <command>` with its target and log folders in workdir."""
    return [
        str(DBT),
        *command.split(),
        "--project-dir",
        str(PROJECT_ROOT),
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
        *(["--vars", json.dumps(variables)] if variables else []),
        *(args or []),
    ]


def dbt(
    command: str,
    workdir: Path,
    variables: dict | None = None,
    args: list[str] | None = None,
    env: dict | None = None,
    timeout: float | None = None,
) -> DbtRun:
    """Run `dbt <command>` on the project with its own warehouse in workdir.

    `env` entries override the defaults (DUCKDB_PATH, BI_DUCKDB_PATH, ...).

    Unless `env` names another DUCKDB_PATH, dbt runs in workdir with the
    relative DUCKDB_PATH ``warehouse.duckdb``: the profile then reads the
    same in every work folder, so a run in a copy of a build (SharedBuild.fork)
    keeps dbt's partial parse of the original (a changed profile, like
    changed vars, makes dbt parse the whole project again).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    run_env = dbt_environment(workdir, env)
    cwd = PROJECT_ROOT
    if "DUCKDB_PATH" not in (env or {}):
        run_env["DUCKDB_PATH"] = "warehouse.duckdb"
        cwd = workdir
    done = run_command(
        dbt_command(command, workdir, variables, args),
        cwd=cwd,
        env=run_env,
        timeout=timeout,
    )
    return DbtRun(
        done.returncode, done.stdout + done.stderr, cwd / run_env["DUCKDB_PATH"]
    )
