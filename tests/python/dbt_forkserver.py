"""A dbt fork server: import dbt once, then run each dbt command in a fork.

A dbt command in a fresh process spends about 5 s importing dbt, DuckDB,
pandas and scikit-learn before it does anything. The test helpers
(``pipeline.run_command``) start this server once per pytest process, the
first time they run dbt, and send it each dbt command instead of starting
the ``dbt`` console script. The server only imports (no computation, so no
BLAS or OpenMP thread pool exists yet), then for each request forks a child
that becomes the console script:

- ``os.setsid()``: the child leads its own process group, which the client
  kills on a timeout (as with ``Popen(start_new_session=True)``);
- stdin from /dev/null, fds 1 and 2 to the files the request names;
- ``chdir(cwd)``, ``os.environ`` replaced by the request's environment,
  ``sys.argv`` the request's argv, ``sys.path[0]`` the console script's
  folder;
- ``sys.exit(cli())``, as the ``dbt`` script does, and the child ends as a
  Python program does (:func:`_end_child`): non-daemon threads joined,
  atexit handlers run (dbt-duckdb's closes the warehouse), output flushed,
  an uncaught exception's traceback printed (exit status 1), so its exit
  status is the script's: 0 success, 1 failure, 2 error. Then ``os._exit``,
  without the interpreter's teardown of every module the server imported
  (dbt, pandas, scikit-learn: about a second of each command's time on a
  busy machine, which changes nothing the command did).

Protocol (JSON lines): the client writes ``{"argv", "cwd", "env", "stdout",
"stderr"}`` to the server's stdin; the server answers ``{"pid": pid}`` at
once and ``{"pid": pid, "status": status}`` when the child ends (status as
``subprocess.Popen.returncode``: negative for a signal). One request at a
time; at end of input the server exits.

Run as a script: ``python dbt_forkserver.py``. :class:`ForkServerClient`
is the other end, the one ``pipeline.run_command`` uses.
"""

from __future__ import annotations

import atexit
import json
import locale
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NoReturn

# What every dbt command of the project imports; none of them computes on
# import, so no BLAS or OpenMP thread pool runs yet (OpenBLAS's idle threads
# stop and restart around a fork). Not DuckDB: `import duckdb` starts a
# database worker thread that a fork does not copy, and the child then
# aborts at exit ("terminate called without an active exception"); the
# child imports it (and the dbt-duckdb adapter, which imports it) itself,
# in a fraction of a second.
PRELOAD = (
    "dbt.cli.main",
    "numpy",
    "pandas",
    "pyarrow",
    "pyarrow.compute",
    "scipy.optimize",
    "scipy.stats",
    "sklearn.cluster",
    "sklearn.decomposition",
    "sklearn.metrics",
    "sklearn.mixture",
    "sklearn.neighbors",
)


def preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)


def serve(requests: int, replies: int) -> int:
    """Answer requests until end of input (a child ends in _end_child and
    never comes back into the loop)."""
    reader = os.fdopen(requests, "rb")
    for line in reader:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            reader.close()
            os.close(replies)
            _end_child(request)
        _reply(replies, {"pid": pid})
        _, status = os.waitpid(pid, 0)
        _reply(replies, {"pid": pid, "status": _returncode(status)})
    return 0


def run_child(request: dict) -> int | None:
    os.setsid()
    _redirect(os.devnull, 0, os.O_RDONLY)
    _redirect(request["stdout"], 1, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    _redirect(request["stderr"], 2, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    argv = request["argv"]
    sys.argv = [argv[0].removesuffix(".exe"), *argv[1:]]
    sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
    from dbt.cli.main import cli

    return cli()


def _end_child(request: dict) -> NoReturn:
    """Run the request's command, then end the child as the interpreter ends
    a program (threads, atexit, flushed output, exit status), short of the
    teardown of its modules."""
    try:
        code = run_child(request)
    except SystemExit as stop:
        code = stop.code
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # as Python does for sys.exit("message")
        print(code, file=sys.stderr)
        status = 1
    try:
        threading._shutdown()  # what the interpreter does first at exit
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(status & 0xFF)


def _redirect(path: str, fd: int, flags: int) -> None:
    opened = os.open(path, flags, 0o644)
    os.dup2(opened, fd)
    os.close(opened)


def _returncode(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


def _reply(fd: int, message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def main() -> int:
    # The protocol moves off fds 0 and 1, so nothing a child prints (or
    # inherits in a buffer) can reach it; fd 2 stays the client's stderr.
    requests, replies = os.dup(0), os.dup(1)
    _redirect(os.devnull, 0, os.O_RDONLY)
    _redirect(os.devnull, 1, os.O_WRONLY)
    # import as the console script does, not from this script's folder
    sys.path[0] = os.path.dirname(sys.executable)
    preload()
    if "duckdb" in sys.modules:
        raise ForkServerError("a preloaded module imported duckdb (see PRELOAD)")
    sys.stdout.flush()
    sys.stderr.flush()
    _reply(replies, {"ready": os.getpid()})
    return serve(requests, replies)


class ForkServerError(RuntimeError):
    """The fork server did not start, or ended while running a command."""


class ForkServerClient:
    """Runs dbt commands in a fork server, started at the first command.

    :meth:`claim` says whether a command can run here: it must be the
    `dbt` console script of this venv, on the DuckDB target, with the
    environment variables read at import time (``PYTHON*``, ``LD_*`` and the
    BLAS/OpenMP thread settings) as the server has them, and no other
    command of this process may be running in the server (a second thread
    runs its command as a subprocess). Then :meth:`run` and, in any case,
    :meth:`release`.
    """

    IMPORT_TIME_ENV = ("PYTHON", "LD_", "OMP_", "OPENBLAS_", "MKL_", "MALLOC_")
    START_TIMEOUT = 600.0
    REPLY_TIMEOUT = 120.0

    def __init__(self, dbt: Path, enabled: bool) -> None:
        self.dbt = str(dbt)
        self.enabled = enabled
        self.pids: list[int] = []  # every child, in order (read by tests)
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._import_env: dict[str, str] = {}
        self._buffer = b""

    def claim(self, cmd: list[str], env: dict | None) -> bool:
        if not (self.enabled and cmd and cmd[0] == self.dbt):
            return False
        if command_option(cmd, "--target") not in (None, "duckdb"):
            return False
        environment = os.environ if env is None else env
        started = self._process is not None and self._process.poll() is None
        if _import_env(environment) != (
            self._import_env if started else _import_env(os.environ)
        ):
            return False
        return self._lock.acquire(blocking=False)

    def release(self) -> None:
        self._lock.release()

    def run(
        self, cmd: list[str], cwd: Path, env: dict | None, timeout: float
    ) -> tuple[int, str, str, bool]:
        """(exit status, stdout, stderr, timed out) of the dbt command `cmd`;
        past `timeout` seconds its process group is killed."""
        self._start()
        with tempfile.TemporaryDirectory(prefix="dbt-fork-") as folder:
            stdout, stderr = Path(folder, "stdout"), Path(folder, "stderr")
            self._send(
                {
                    "argv": list(cmd),
                    "cwd": str(cwd),
                    "env": dict(os.environ if env is None else env),
                    "stdout": str(stdout),
                    "stderr": str(stderr),
                }
            )
            pid = self._receive(self.REPLY_TIMEOUT)["pid"]
            self.pids.append(pid)
            try:
                ended = self._receive(timeout)
            except TimeoutError:
                _kill_group(pid)
                ended = self._receive(self.REPLY_TIMEOUT)
                timed_out = True
            else:
                timed_out = False
            return ended["status"], _read(stdout), _read(stderr), timed_out

    def close(self) -> None:
        """End the server (it ends by itself when this process ends)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()

    def _start(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        if self._process is None:
            atexit.register(self.close)
        self._buffer = b""
        self._import_env = _import_env(os.environ)
        self._process = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        )
        try:
            self._receive(self.START_TIMEOUT)["ready"]
        except (TimeoutError, ForkServerError) as error:
            self._process.kill()
            self._process.wait()
            raise ForkServerError(
                f"the dbt fork server did not start: {error}"
            ) from error

    def _send(self, message: dict) -> None:
        try:
            self._process.stdin.write((json.dumps(message) + "\n").encode())
            self._process.stdin.flush()
        except BrokenPipeError as error:
            raise ForkServerError(f"the dbt fork server has ended: {error}") from error

    def _receive(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        fd = self._process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError(f"no answer from the dbt fork server in {timeout} s")
            data = os.read(fd, 65536)
            if not data:
                status = self._process.wait()
                raise ForkServerError(
                    f"the dbt fork server ended (exit status {status}); "
                    "its error output is in the test's stderr"
                )
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)


def command_option(cmd: list[str], name: str) -> str | None:
    """The value of `--name value` in a command line (the last one), or None."""
    value = None
    for i, argument in enumerate(cmd[:-1]):
        if argument == name:
            value = cmd[i + 1]
    return value


def _import_env(environment) -> dict[str, str]:
    return {
        key: value
        for key, value in environment.items()
        if key.startswith(ForkServerClient.IMPORT_TIME_ENV)
    }


def _kill_group(pid: int) -> None:
    """SIGKILL the child's process group, and the child itself should it
    not lead its group yet (killed before its setsid)."""
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _read(path: Path) -> str:
    """A child's output, decoded as subprocess.Popen(text=True) does."""
    try:
        with open(
            path, encoding=locale.getpreferredencoding(False), errors="replace"
        ) as f:
            return f.read()
    except FileNotFoundError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
