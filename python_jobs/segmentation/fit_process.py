"""A second Python process that fits candidates beside this one.

The candidates' fits hold Python's interpreter lock for most of their time
(scikit-learn's Gaussian mixture is NumPy calls on small arrays, one EM
step after another): on the real data, the two fitting threads of
:mod:`~segmentation.concurrency` fitted the candidates no sooner than one
thread did. A fit sent to this process runs on the other core instead,
while the threads go on with the next candidates.

:meth:`FitProcess.start` launches ``python -m segmentation.fit_process``
before the caller imports scikit-learn, so both processes import it at
the same time (this module imports only the standard library, and the
package's ``__init__`` imports its modules on first use); the process
runs at a lower priority, so that it takes only what the caller leaves
of the cores. While the block of :func:`fits_in` runs,
:func:`~segmentation.fitting.fit_clusters` hands a fit to the process
whenever it is free (:meth:`FitProcess.try_fit`), and fits in its own
thread otherwise. The process fits with the same code, seed and one BLAS
and OpenMP thread, so a fit gives the same result wherever it ran; if the
process cannot be started, is not ready yet or fails, the fit is made
here (logged once), and the result is again the same.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .algorithms import CandidateSpec
    from .fitting import ClusterFit, FitData

__all__ = ["FitProcess", "active", "fits_in"]

logger = logging.getLogger(__name__)

#: Environment of the fitting process: one BLAS and OpenMP thread, as the
#: fitting threads here (:data:`~segmentation.concurrency.MAX_THREADS`).
_ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

#: How much lower the fitting process's scheduling priority is (``nice``).
_NICENESS = 10

_active: FitProcess | None = None


class FitProcess:
    """The parent's end of one fitting process (at most one fit at a time)."""

    def __init__(self, popen: subprocess.Popen) -> None:
        self._popen = popen
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._failed = False
        self._closed = False
        self.fits = 0
        threading.Thread(
            target=self._wait_until_ready, name="fit-process-ready", daemon=True
        ).start()

    @classmethod
    def start(cls) -> FitProcess | None:
        """Launch the process; None on a machine of one core (it would only
        take that core from this process), or, logged, when it cannot be
        launched.

        The process sees this one's import path, so it imports the same
        ``segmentation`` package (dbt's ``module_paths`` included).
        """
        if (os.cpu_count() or 1) < 2:
            return None
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        env.update(_ONE_THREAD)
        try:
            popen = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
            )
        except OSError as exc:
            logger.warning("fitting in this process only: %s", exc)
            return None
        return cls(popen)

    def _wait_until_ready(self) -> None:
        try:
            message = pickle.load(self._popen.stdout)
        except Exception as exc:  # noqa: BLE001 - any failure: fit here
            self._fail(f"it did not start ({exc!r})")
            return
        if message != ("ready", None):
            self._fail(f"it started with {message!r}")
            return
        self._ready.set()

    def _fail(self, reason: str) -> None:
        if not self._failed and not self._closed:
            self._failed = True
            logger.warning("the fitting process is not used: %s", reason)

    @property
    def usable(self) -> bool:
        """Started, ready, not failed and not closed."""
        return self._ready.is_set() and not self._failed and not self._closed

    def try_fit(
        self, spec: CandidateSpec, data: FitData, seed: int
    ) -> ClusterFit | None:
        """``fit_clusters_here(spec, data, seed)`` in the process, or None
        when it is busy, not ready or failed (the caller then fits itself).
        The process gets ``data``'s merge tree when it is known, and the one
        it computes is kept in ``data``."""
        if not self.usable or not self._lock.acquire(blocking=False):
            return None
        request = (spec, data.Z, data.known_ward_children(), seed)
        try:
            pickle.dump(request, self._popen.stdin, pickle.HIGHEST_PROTOCOL)
            self._popen.stdin.flush()
            status, value = pickle.load(self._popen.stdout)
            if status == "ok":
                self.fits += 1
        except Exception as exc:  # noqa: BLE001 - the process died: fit here
            self._fail(f"it stopped answering ({exc!r})")
            return None
        finally:
            self._lock.release()
        if status != "ok":
            # the fit raised there; fitting here raises or reports the same
            logger.debug("the fitting process raised %s; fitting here", value)
            return None
        fit, children = value
        if children is not None:
            data.keep_ward_children(children)
        return fit

    def close(self) -> None:
        """Ask the process to exit and wait for it (killed at once if it is
        still starting, after 10 s otherwise)."""
        with self._lock:
            self._closed = True
            if not self._ready.is_set():
                self._popen.kill()
            try:
                self._popen.stdin.close()
            except OSError:
                pass
            try:
                self._popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()
            self._popen.stdout.close()
        logger.info("the fitting process made %d fits", self.fits)


def active() -> FitProcess | None:
    """The process of the enclosing :func:`fits_in` block, if usable."""
    process = _active
    return process if process is not None and process.usable else None


@contextmanager
def fits_in(process: FitProcess | None) -> Iterator[None]:
    """Let :func:`~segmentation.fitting.fit_clusters` use ``process`` while
    the block runs (nothing changes when it is None)."""
    global _active
    previous = _active
    _active = process
    try:
        yield
    finally:
        _active = previous


def _serve(requests: Any, replies: Any) -> None:
    """The process's loop: read (spec, Z, merge tree or None, seed), write
    ("ok", (ClusterFit, the merge tree computed here or None)) or
    ("error", text), until the parent closes its end."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from .concurrency import MAX_THREADS
    from .fitting import FitData, fit_clusters_here

    threadpool_limits(MAX_THREADS)
    warnings.simplefilter("ignore", ConvergenceWarning)
    pickle.dump(("ready", None), replies)
    replies.flush()
    while True:
        try:
            spec, Z, children, seed = pickle.load(requests)
        except EOFError:
            return
        data = FitData(Z, children)
        try:
            fit = fit_clusters_here(spec, data, seed)
            # the merge tree goes back only if it was computed here
            computed = data.known_ward_children() if children is None else None
            reply = ("ok", (fit, computed))
        except Exception as exc:  # noqa: BLE001 - reported, refitted there
            reply = ("error", repr(exc))
        pickle.dump(reply, replies, pickle.HIGHEST_PROTOCOL)
        replies.flush()


def _lower_priority() -> None:
    """Let this process's import and fits yield to the parent's work: the
    parent reads the features and draws its samples meanwhile, and a fit
    here is only worth a core the parent leaves idle."""
    if hasattr(os, "nice"):
        try:
            os.nice(_NICENESS)
        except OSError:
            pass


def main() -> None:
    """Entry point of ``python -m segmentation.fit_process``: the replies
    go to the original standard output, anything printed to stderr."""
    _lower_priority()
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
