"""The test suite's own rules: a hung subprocess fails instead of hanging, and
in CI a skip fails the run (pipeline.py, conftest.py)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from pipeline import require_real_data, run_command

HERE = Path(__file__).resolve().parent


def test_a_hung_subprocess_is_killed_with_its_command_and_output(tmp_path):
    child_pid = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(child_pid)!r}, 'w').write(str(child.pid))\n"
        "print('working on it', flush=True)\n"
        "time.sleep(600)\n"
    )
    cmd = [sys.executable, "-c", script]
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as failure:
        run_command(cmd, timeout=2)
    assert time.monotonic() - started < 30
    message = str(failure.value)
    assert "timed out after 2 s and was killed" in message
    assert "time.sleep(600)" in message  # the command
    assert "working on it" in message  # its last output
    # the whole process group went, the grandchild too
    pid = int(child_pid.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a killed child of a dead parent is reaped by init; until then a zombie
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


def test_a_failing_command_with_check_names_it_and_its_output():
    cmd = [sys.executable, "-c", "import sys; print('bad input'); sys.exit(3)"]
    with pytest.raises(pytest.fail.Exception) as failure:
        run_command(cmd, check=True)
    assert "exit status 3" in str(failure.value)
    assert "bad input" in str(failure.value)


SKIPPING = """
import pytest

def test_needs_something():
    pytest.skip("the frobnicator is missing")

@pytest.mark.skipif(True, reason="no widget here")
def test_marked():
    pass
"""


@pytest.mark.parametrize("ci", ["true", ""])
def test_in_ci_a_skip_fails_with_its_reason(tmp_path, ci):
    """The conftest hook, loaded as a plugin into a pytest run of a file
    whose tests skip: with CI set both fail, naming the reason."""
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    done = run_command(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "conftest",
            "-rA",
            "-q",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env={**os.environ, "CI": ci, "PYTHONPATH": str(HERE)},
        timeout=120,
    )
    output = done.stdout + done.stderr
    if ci:
        assert done.returncode == 1, output
        # the skip in the test fails it; the marker's, in its setup, errors
        assert "1 failed, 1 error" in output, output
        assert "CI is set, so a skip fails the run" in output
        assert "the frobnicator is missing" in output
        assert "no widget here" in output
    else:
        assert done.returncode == 0, output
        assert "2 skipped" in output, output


def test_missing_real_data_fails_in_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    import pipeline

    monkeypatch.setattr(pipeline, "REAL_DATA_GLOB", tmp_path / "*.csv.gz")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set and the real"):
        require_real_data()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="the real Online Retail data"):
        require_real_data()
