"""The benchmark harness of ``make bench`` (issue 7).

Modules:

- :mod:`bench.datasets` - the data at each scale: the real Online Retail
  files tiled N times (customers and invoices renumbered per tile), or the
  project's generator when the real data is absent; cached per scale.
- :mod:`bench.monitor` - runs a command and samples the resident memory of
  its whole process tree from ``/proc``.
- :mod:`bench.dbt_build` - the measured ``dbt build`` into a fresh warehouse,
  with per-node and per-layer times from ``run_results.json``.
- :mod:`bench.notebook_reference` - REFERENCE, not part of the pipeline: the
  pandas notebook the issue compares against.
- :mod:`bench.floor_reference` - REFERENCE, not part of the pipeline: one
  hand-written DuckDB query computing RFM, the floor.
- :mod:`bench.report` - ``BENCHMARKS.md``.
- :mod:`bench.harness` - the command line that ties them together.
"""
