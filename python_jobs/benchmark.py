"""Benchmark the pipeline against a pandas notebook and a DuckDB floor (issue 7).

``make bench`` runs this with the defaults: the real Online Retail data once
and tiled to about 1, 10 and 50 million lines, each measured with a full
``dbt build`` into a fresh warehouse (wall time, every node's time, peak
memory of the process tree, customers per second) and, on the same files,
the two references in ``python_jobs/bench/`` (the notebook and the floor).
The results table is written into ``BENCHMARKS.md``.

Examples::

    python python_jobs/benchmark.py                        # real,1m,10m,50m
    python python_jobs/benchmark.py --scales 1m,10m
    python python_jobs/benchmark.py --scales 10m --format parquet
    python python_jobs/benchmark.py --scales tiny --output /tmp/b.md   # seconds
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.harness import main

if __name__ == "__main__":
    sys.exit(main())
