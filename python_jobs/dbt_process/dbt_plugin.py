"""dbt-duckdb plugin: Python's garbage collector set for the dbt run.

Declared in profiles.yml under ``plugins:`` (module ``dbt_process.dbt_plugin``).
dbt-duckdb calls :meth:`Plugin.configure_connection` when it opens the
warehouse, after dbt has loaded the manifest and before the first node: the
moment to freeze the long-lived heap (see :mod:`dbt_process.garbage_collection`).
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from .garbage_collection import tune_garbage_collector


class Plugin(BasePlugin):
    """Tunes the garbage collector once per process; reads and stores nothing."""

    def configure_connection(self, conn) -> None:
        tune_garbage_collector()
