"""How the tests run dbt (pipeline.py, dbt_forkserver.py): a dbt command in
the fork server behaves as the `dbt` console script, and a seeded partial
parse never stands in for a parse that dbt would have to redo."""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from pathlib import Path

import pipeline
import pytest
from pipeline import ParseCacheEntry, dbt, dbt_command, dbt_environment, run_command

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CLOCK = re.compile(r"^\d\d:\d\d:\d\d(\.\d+)?\s+", re.M)


def _timeless(output: str) -> str:
    """Output without colours and the clock time dbt starts each line with."""
    return CLOCK.sub("", ANSI.sub("", output))


@pytest.fixture
def fork_server(monkeypatch: pytest.MonkeyPatch) -> pipeline.ForkServerClient:
    """The fork server, on even when TEST_DBT_FORKSERVER=0 turned it off."""
    monkeypatch.setattr(pipeline.FORK_SERVER, "enabled", True)
    return pipeline.FORK_SERVER


def _inline(workdir: Path, template: str, variables: dict | None = None) -> list[str]:
    return dbt_command("compile", workdir, variables, ["--inline", template])


def test_each_dbt_command_forks_with_its_own_folder_and_environment(
    tmp_path: Path, fork_server
) -> None:
    before = len(fork_server.pids)
    first, second = tmp_path / "first", tmp_path / "second"
    probe = "{{ env_var('RUNNER_PROBE', 'unset') }}"
    runs = []
    for folder, extra in ((first, {"RUNNER_PROBE": "first-run"}), (second, {})):
        folder.mkdir()
        env = dbt_environment(folder, extra)
        env["DUCKDB_PATH"] = "warehouse.duckdb"  # relative: to the command's cwd
        runs.append(
            run_command(_inline(folder, probe), cwd=folder, env=env, check=True)
        )
    children = fork_server.pids[before:]
    assert len(children) == 2 and children[0] != children[1]
    assert all(child != os.getpid() for child in children)
    assert "first-run" in runs[0].stdout
    # the second command does not inherit the first one's environment
    assert "first-run" not in runs[1].stdout
    assert "unset" in runs[1].stdout
    # each opened the warehouse of its own folder (the relative DUCKDB_PATH)
    assert (first / "warehouse.duckdb").exists()
    assert (second / "warehouse.duckdb").exists()
    assert (first / "logs" / "dbt.log").exists()


def test_a_dbt_error_exits_and_prints_as_the_console_script(
    tmp_path: Path, fork_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bad --vars: the same exit status (2, an error) and the same output
    from a fork as from the `dbt` script in a subprocess."""
    outcomes = []
    for enabled in (True, False):
        monkeypatch.setattr(fork_server, "enabled", enabled)
        before = len(fork_server.pids)
        folder = tmp_path / f"fork-{enabled}"
        cmd = dbt_command("parse", folder, args=["--vars", "{not: [yaml"])
        done = run_command(cmd, env=dbt_environment(folder))
        assert (len(fork_server.pids) > before) == enabled
        outcomes.append(
            (
                done.returncode,
                _timeless(done.stdout),
                _timeless(done.stderr),
            )
        )
    assert outcomes[0][0] == 2
    assert "vars" in (outcomes[0][1] + outcomes[0][2]).lower()
    assert outcomes[0] == outcomes[1]


def test_a_hung_dbt_command_in_a_fork_is_killed(tmp_path: Path, fork_server) -> None:
    """The timeout kills the child's process group and names the command."""
    before = len(fork_server.pids)
    # a query that runs for hours (10**12 rows), after a full parse (new
    # vars: nothing cached): the command outlasts the timeout however fast
    # the machine parses (a parse alone took under 4 s on a fast machine)
    endless = "select sum(a.range * b.range) as total from range(1000000) as a, range(1000000) as b"
    cmd = dbt_command(
        "show", tmp_path, {"runner_probe": str(uuid.uuid4())}, ["--inline", endless]
    )
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as failure:
        run_command(cmd, env=dbt_environment(tmp_path), timeout=4)
    assert time.monotonic() - started < 60
    message = str(failure.value)
    assert "timed out after 4 s and was killed" in message
    assert "runner_probe" in message  # the command
    assert "Running with dbt=" in message  # its last output
    (child,) = fork_server.pids[before:]
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # killed and reaped by the server


def test_partial_parses_are_seeded_and_a_stale_seed_is_parsed_again(
    tmp_path: Path,
) -> None:
    assert pipeline.PARSE_CACHE is not None  # conftest's session cache
    probe = str(uuid.uuid4())  # vars of this test only
    first = {"raw_transactions": "/nowhere/first/*.csv.gz", "runner_probe": probe}
    second = {**first, "raw_transactions": "/nowhere/second/*.csv.gz"}
    template = "select '{{ var(\"raw_transactions\") }}' as raw"

    def compile_in(folder: Path, variables: dict):
        cmd = _inline(folder, template, variables)
        # as pipeline.dbt() runs it: in the folder, DUCKDB_PATH relative
        env = {**dbt_environment(folder), "DUCKDB_PATH": "warehouse.duckdb"}
        entry = ParseCacheEntry.of(cmd, folder, env)
        run = dbt("compile", folder, variables, ["--inline", template])
        assert run.returncode == 0, run.output[-3000:]
        return entry, run.output

    # the first command parses in full and fills the cache
    entry, output = compile_in(tmp_path / "a", first)
    assert "Unable to do partial parsing because saved manifest not found" in output
    assert entry.cached.exists()
    # the next one, in a new folder with the same vars, starts from it
    entry, output = compile_in(tmp_path / "b", first)
    assert "Unable to do partial parsing" not in output
    assert "/nowhere/first/" in output
    # a stale seed (made with the first vars) planted by hand: dbt sees the
    # vars changed, parses in full, and compiles with the vars it was given
    stale = tmp_path / "d" / "target"
    stale.mkdir(parents=True)
    shutil.copyfile(
        tmp_path / "a" / "target" / ParseCacheEntry.FILE, stale / ParseCacheEntry.FILE
    )
    _, output = compile_in(tmp_path / "d", second)
    assert "Unable to do partial parsing because config vars" in output
    assert "/nowhere/second/" in output
    assert "/nowhere/first/" not in output


def test_the_parse_cache_key_holds_what_dbt_checks(tmp_path: Path) -> None:
    """Vars in another order share an entry; other vars, profile env or
    profiles dir do not."""
    cache = pipeline.PARSE_CACHE

    def key(variables, **env) -> str:
        cmd = _inline(tmp_path, "select 1", variables)
        return ParseCacheEntry.of(
            cmd, tmp_path, {**dbt_environment(tmp_path), **env}
        ).cached.name

    base = key({"a": 1, "b": 2})
    assert cache is not None
    assert key({"b": 2, "a": 1}) == base
    assert key({"a": 1, "b": 3}) != base
    assert key({"a": 1, "b": 2}, DUCKDB_PATH="other.duckdb") != base
    assert key({"a": 1, "b": 2}, DBT_PROFILES_DIR=str(tmp_path)) != base
