"""Run the project's own commands from tests: the generator, dbt and tools.

Each run gets its own warehouse file, target and log folders, so tests never
share state with each other or with a developer's `make run`.

Every subprocess goes through :func:`run_command`, which stops it (and the
processes it started) after a timeout and fails the test with the command
and the tail of its output: a hung build fails CI instead of hanging it.

How dbt commands run
--------------------
A dbt command costs about 5 s of imports and, in a work folder whose target
folder is new, a full parse of the project (about 10 s more) before it
starts. Two things in :func:`run_command` save both, for every dbt command
(``DBT``, such as :func:`dbt_command` spells them), and never change what the
command does:

Fork server (``dbt_forkserver.py``)
    The first dbt command of a pytest process (each xdist worker) starts a
    server that imports dbt, DuckDB, pandas and scikit-learn once; each dbt
    command then runs in a fork of it, which becomes the ``dbt`` console
    script in the command's folder, environment and arguments (own process
    group, output to files, the script's exit status). The timeout, `check`
    and TEST_COMMAND_LOG work as for a subprocess. Commands on another target
    than DuckDB (Spark), with other import-time variables (PYTHONPATH, BLAS
    threads, ...) or started while another thread's command runs, run as
    subprocesses. ``TEST_DBT_FORKSERVER=0`` runs every command as a
    subprocess. Tests that start dbt in the background themselves (test_faults)
    use their own ``subprocess.Popen`` with :func:`dbt_command`.

Partial-parse seeding (:class:`ParseCacheEntry`)
    dbt keeps its parsed project in ``<target>/partial_parse.msgpack`` and
    reuses it when the vars, the profile and the project's files are the ones
    it was made with, checking each itself (any change: a full parse). The
    session keeps one such file per (project, vars, profiles dir, profile,
    target, DUCKDB_PATH, DBT_PROJECT_ROOT) in ``dbt-parse-cache`` beside the
    shared builds (conftest sets :data:`PARSE_CACHE`; all xdist workers share
    it): before a dbt command whose --target-path has none, the cached one is
    copied in; after it, the folder's is cached if the cache has none yet
    (written aside and renamed, so a reader never sees half a file).
    ``TEST_DBT_PARSE_CACHE=0`` turns it off.
"""

from __future__ import annotations

import glob
import hashlib
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
from dbt_forkserver import ForkServerClient, command_option

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


def _switch(name: str) -> bool:
    """An on/off environment switch, on unless set to 0/false/no/off."""
    return os.environ.get(name, "1").strip().lower() not in ("0", "false", "no", "off")


# The fork server for this process's dbt commands (TEST_DBT_FORKSERVER=0: none).
FORK_SERVER = ForkServerClient(DBT, enabled=_switch("TEST_DBT_FORKSERVER"))
# The folder of cached partial parses; set by conftest for the session.
PARSE_CACHE: Path | None = None


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
    way. A dbt command runs in the fork server and gets a seeded partial
    parse (see the module's docstring); anything else runs as a subprocess.
    """
    timeout = SUBPROCESS_TIMEOUT if timeout is None else timeout
    started = time.monotonic()
    parse_cache = ParseCacheEntry.of(cmd, cwd, env)
    if parse_cache:
        parse_cache.seed()
    if FORK_SERVER.claim(cmd, env):
        try:
            returncode, stdout, stderr, timed_out = FORK_SERVER.run(
                cmd, cwd, env, timeout
            )
        finally:
            FORK_SERVER.release()
    else:
        returncode, stdout, stderr, timed_out = _run_subprocess(cmd, cwd, env, timeout)
    if timed_out:
        pytest.fail(
            f"timed out after {timeout:.0f} s and was killed: {shlex.join(cmd)}\n"
            f"--- last output ---\n{tail(stdout + stderr)}",
            pytrace=False,
        )
    if parse_cache:
        parse_cache.store()
    done = subprocess.CompletedProcess(cmd, returncode, stdout, stderr)
    log_command(cmd, time.monotonic() - started, returncode)
    if check and done.returncode != 0:
        pytest.fail(
            f"exit status {done.returncode}: {shlex.join(cmd)}\n"
            f"--- last output ---\n{tail(stdout + stderr)}",
            pytrace=False,
        )
    return done


def _run_subprocess(
    cmd: list[str], cwd: Path, env: dict | None, timeout: float
) -> tuple[int, str, str, bool]:
    """(exit status, stdout, stderr, timed out) of `cmd` as a subprocess in
    its own session; past `timeout` its process group is killed."""
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
        return process.returncode, stdout, stderr, True
    return process.returncode, stdout, stderr, False


@dataclass(frozen=True)
class ParseCacheEntry:
    """A dbt command's target folder and its cached partial parse."""

    target: Path
    cached: Path

    FILE = "partial_parse.msgpack"
    ENV = ("DUCKDB_PATH", "DBT_PROJECT_ROOT", "DBT_TARGET", "DBT_PROFILE")

    @classmethod
    def of(cls, cmd: list[str], cwd: Path, env: dict | None) -> ParseCacheEntry | None:
        """The entry of a dbt command with a --target-path, if caching is on."""
        target = command_option(cmd, "--target-path")
        if (
            PARSE_CACHE is None
            or not _switch("TEST_DBT_PARSE_CACHE")
            or Path(cmd[0]).name != "dbt"
            or target is None
        ):
            return None
        environment = os.environ if env is None else env
        variables = command_option(cmd, "--vars")
        try:
            variables = json.dumps(json.loads(variables), sort_keys=True)
        except (TypeError, ValueError):
            pass  # none, or YAML: the text itself
        key = {
            "project": str(Path(cwd, command_option(cmd, "--project-dir") or ".")),
            "vars": variables,
            "profiles": command_option(cmd, "--profiles-dir")
            or environment.get("DBT_PROFILES_DIR"),
            "profile": command_option(cmd, "--profile"),
            "target": command_option(cmd, "--target"),
            "env": {name: environment.get(name) for name in cls.ENV},
        }
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode())
        return cls(
            Path(cwd, target), PARSE_CACHE / f"{digest.hexdigest()[:24]}.msgpack"
        )

    def seed(self) -> None:
        """Copy the cached parse into a target folder that has none."""
        here = self.target / self.FILE
        if self.cached.exists() and not here.exists():
            self.target.mkdir(parents=True, exist_ok=True)
            _copy_atomically(self.cached, here)

    def store(self) -> None:
        """Cache the target folder's parse if the cache has none."""
        here = self.target / self.FILE
        if here.exists() and not self.cached.exists():
            self.cached.parent.mkdir(parents=True, exist_ok=True)
            _copy_atomically(here, self.cached)


def _copy_atomically(source: Path, destination: Path) -> None:
    """Copy aside, then rename: readers see the whole file or none."""
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, destination)


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
