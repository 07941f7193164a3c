"""Python's garbage collector, set for a dbt run.

Before its first node, dbt holds a large, long-lived heap: the manifest,
Jinja's compiled macros and every imported module. It then renders each
node in a fresh context with a macro object for each of the project's and
the adapters' 750 macros, which becomes cyclic garbage when the node ends.
With the collector's defaults (a young generation of 700 objects), those
allocations start a full collection every few nodes, and each one walks
the whole long-lived heap again; so does the last collection when the
process exits.

:func:`tune_garbage_collector`, called once the heap is loaded:

- moves every object tracked at that moment to the permanent generation
  (``gc.freeze()``), which no collection walks: the manifest and the
  modules live until the process ends anyway. It does not collect first:
  a full collection there walked the whole heap for 0.13 s on one core,
  before dbt's first node, and freed nothing (0 objects, real data and
  10.8M lines: BENCHMARKS.md), so the only cost of skipping it would be
  cyclic garbage present at that moment staying in memory;
- collects the young generation every 10,000 allocations instead of 700,
  so that a node's context is collected while it is young, and the older
  generations every 20 collections of the one below instead of 10.

Cyclic garbage is still collected (the collector stays on); only less
often, and without walking what cannot be garbage. Measured on the real
data (BENCHMARKS.md), the collections during the build took 0.30 to
0.37 s instead of 0.78 s, and the process's exit after dbt's last log
line 0.3 to 0.6 s instead of 1.1 to 1.2 s.
"""

from __future__ import annotations

import gc

__all__ = ["THRESHOLDS", "tune_garbage_collector"]

#: ``gc.set_threshold`` values: young-generation allocations, then the
#: collections of each generation that start one of the next.
THRESHOLDS = (10_000, 20, 20)

_tuned = False


def tune_garbage_collector() -> bool:
    """Freeze the heap as it is and raise the collection thresholds.

    Only the first call in a process does anything (a later one would
    freeze what the run made since); returns whether this call did it.
    """
    global _tuned
    if _tuned:
        return False
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    _tuned = True
    return True
