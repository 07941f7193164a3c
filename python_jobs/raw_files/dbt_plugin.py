"""dbt-duckdb plugin: the raw-file checks on dbt's DuckDB connection.

Declared in profiles.yml under ``plugins:`` (module ``raw_files.dbt_plugin``).
dbt-duckdb calls :meth:`Plugin.configure_connection` on every new
connection, which registers ``raw_gzip_problem(path)`` for the
`check_raw_transactions_location` macro.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from .gzip_integrity import register_functions


class Plugin(BasePlugin):
    """Registers the raw-file check functions; reads and stores nothing."""

    def configure_connection(self, conn) -> None:
        register_functions(conn)
