"""Independent fits run side by side in threads of the fitting process.

The fit's heavy steps (NumPy, SciPy's linkage, scikit-learn's Cython and
OpenMP kernels, on :data:`MAX_THREADS` BLAS and OpenMP threads) spend
part of their time outside Python's interpreter lock, so two candidates
evaluated in two threads finish sooner than one after the other.
Threads, not processes: the fit runs inside a dbt build, whose process
holds DuckDB's threads and must not be forked, and a fresh process would
import scikit-learn again. Each task is seeded on its own and its result is
taken in the order of the tasks, so the result does not depend on the
number of workers or on which thread finishes first. A fit may also run
in a second process (:mod:`~segmentation.fit_process`), when the caller
started one.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

__all__ = ["FIT_WORKERS", "MAX_THREADS", "fit_threads", "map_in_threads"]

T = TypeVar("T")
R = TypeVar("R")

#: Cap on BLAS and OpenMP threads while fitting. One: the fit runs inside a
#: dbt build whose other node and DuckDB queries use the same cores, and
#: OpenMP threads spin while they wait for a busy core (fit at 87k customers
#: on 2 loaded cores: 44 to 76 s with 2 threads, 21 s with 1).
MAX_THREADS = 1

#: Threads evaluating candidates or bootstrap refits at once: two (one on
#: a one-core machine). Measured on 2 cores, 87k customers: the fit 3.1 to
#: 3.4 s one task at a time, 2.4 to 2.6 s two at a time; more threads than
#: that were not measured.
FIT_WORKERS = min(2, os.cpu_count() or 1)


_pool: ThreadPoolExecutor | None = None


@contextmanager
def fit_threads(workers: int | None = None) -> Iterator[None]:
    """Worker threads for :func:`map_in_threads` while the block runs.

    One pool of ``workers`` threads (default :data:`FIT_WORKERS`) for the
    whole fit: a pool started per call costs a few milliseconds, and a fit
    calls :func:`map_in_threads` once per pair of bootstrap refits. A block
    inside another uses the outer one's pool.

    OpenMP's thread count is a setting of each thread: every worker sets it
    to :data:`MAX_THREADS` as the fitting thread does (else scikit-learn's
    k-means in a worker runs OpenMP on every core, and its sums, in another
    order, differ in the last digits).
    """
    global _pool
    workers = FIT_WORKERS if workers is None else workers
    if _pool is not None or workers <= 1:
        yield
        return
    with ThreadPoolExecutor(
        max_workers=workers,
        initializer=threadpool_limits,
        initargs=(MAX_THREADS, "openmp"),
    ) as pool:
        _pool = pool
        try:
            yield
        finally:
            _pool = None


def map_in_threads(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[function(item) for item in items]``, computed by the threads of
    the enclosing :func:`fit_threads` block (one after the other outside
    one); the first exception raised by a task is raised here.

    Fitters silence scikit-learn's ``ConvergenceWarning`` with
    ``warnings.catch_warnings``, which saves and restores the process-wide
    filters and so is not safe in concurrent threads: here the warning is
    ignored for the whole run of the tasks, so that whatever order those
    saves and restores interleave in, it stays ignored, and the filters are
    restored once all tasks are done.
    """
    items = list(items)
    pool = _pool
    if pool is None or len(items) <= 1:
        return [function(item) for item in items]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return list(pool.map(function, items))
