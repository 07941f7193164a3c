"""Run a command and measure its wall time and the peak memory of its tree.

The peak is the largest sum of resident set sizes (``/proc/<pid>/statm``)
over the process and all its descendants, sampled every ``interval``
seconds (a spike shorter than that can be missed). The kernel's
``ru_maxrss`` of the child (from ``wait4``) is recorded beside it but not
folded in: it is the largest single process, and Linux carries the memory
the parent had when it forked into it, so it can exceed the command's own.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measured:
    """The outcome of one measured command."""

    returncode: int
    wall_seconds: float
    peak_tree_rss_bytes: int
    peak_sampled_tree_rss_bytes: int
    max_single_rss_bytes: int
    samples: int
    log_path: Path
    peak_spill_bytes: int = 0
    #: when the peak sample was taken (seconds since the epoch)
    peak_at: float | None = None

    def output_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: fields follow the last ')'
        fields = stat[stat.rindex(b")") + 2 :].split()
        children[int(fields[1])].append(int(entry.name))
    return children


def tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, in bytes."""
    children = _children_by_parent()
    total = 0
    stack = [root]
    seen = set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue
        stack.extend(children.get(pid, ()))
    return total


def disk_bytes(path: Path) -> int:
    """Bytes on disk (allocated blocks) of the files under ``path``."""
    total = 0
    stack = [str(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
    return total


def run_measured(
    command: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 0.2,
    spill_dir: Path | None = None,
) -> Measured:
    """Run ``command`` to completion, output to ``log_path``, and measure it.

    ``spill_dir``, when given, is sampled too (every second) for the peak of
    the bytes on disk under it: DuckDB's temporary directory, where a query
    larger than ``memory_limit`` spills.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    peak = 0
    peak_at = None
    peak_spill = 0
    samples = 0
    done = threading.Event()
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )

        def sample() -> None:
            nonlocal peak, peak_at, peak_spill, samples
            while not done.is_set():
                rss = tree_rss_bytes(process.pid)
                if rss > peak:
                    peak, peak_at = rss, time.time()
                if spill_dir is not None and samples % max(1, round(1 / interval)) == 0:
                    peak_spill = max(peak_spill, disk_bytes(spill_dir))
                samples += 1
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4 (not Popen.wait) for the child's own rusage
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    max_single = int(usage.ru_maxrss) * 1024  # kilobytes on Linux
    return Measured(
        returncode=process.returncode,
        wall_seconds=wall,
        peak_tree_rss_bytes=peak,
        peak_sampled_tree_rss_bytes=peak,
        max_single_rss_bytes=max_single,
        samples=samples,
        log_path=log_path,
        peak_spill_bytes=peak_spill,
        peak_at=peak_at,
    )
