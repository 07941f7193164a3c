"""The garbage-collector setting the DuckDB profile's dbt_process plugin makes.

Each check runs in a fresh interpreter: the setting is process-wide and
made once per process, so it must not touch the pytest process itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PYTHON_JOBS = Path(__file__).resolve().parents[2] / "python_jobs"

PROBE = r"""
import gc, json, sys
sys.path.insert(0, sys.argv[1])
from dbt_process import tune_garbage_collector
from dbt_process.garbage_collection import THRESHOLDS

class Node:
    pass

def cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a

held = [cycle() for _ in range(1000)]  # alive when the heap is frozen
before = gc.get_threshold()
first = tune_garbage_collector()
frozen = gc.get_freeze_count()
second = tune_garbage_collector()
after_second = gc.get_freeze_count()
del held[:]  # frozen cycles: no collection walks them any more
for _ in range(500):
    cycle()  # new cyclic garbage after the setting
collected = gc.collect()
print(json.dumps({
    "before": before, "after": gc.get_threshold(), "thresholds": THRESHOLDS,
    "first": first, "second": second, "frozen": frozen,
    "after_second": after_second, "collected": collected,
    "enabled": gc.isenabled(),
}))
"""


def _probe() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(PYTHON_JOBS)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_heap_is_frozen_once_and_new_cycles_are_still_collected() -> None:
    seen = _probe()
    # the first call sets the thresholds, away from Python's defaults
    assert seen["before"] == [700, 10, 10]
    assert seen["after"] == list(seen["thresholds"]) != seen["before"]
    assert seen["first"] is True and seen["second"] is False
    # the 2,000 objects held at the call are among the frozen ones; a second
    # call freezes nothing more
    assert seen["frozen"] >= 2000
    assert seen["after_second"] == seen["frozen"]
    # the collector stays on and collects the 500 cycles of two objects made
    # afterwards, and not the 1,000 frozen ones dropped meanwhile (unfrozen,
    # those would add 2,000 objects)
    assert seen["enabled"] is True
    assert 1000 <= seen["collected"] < 2000
