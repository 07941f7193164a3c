"""dbt-duckdb plugin: the publication functions on dbt's DuckDB connection.

Declared in profiles.yml under ``plugins:`` (module
``publishing.dbt_plugin``; ``python_jobs/`` is on the path through
``module_paths``). dbt-duckdb calls :meth:`Plugin.configure_connection` on
every new connection, which registers ``bi_publication_prepare`` and
``bi_publication_commit`` for the `publish_for_bi` on-run-end hook.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from .publication import register_functions


class Plugin(BasePlugin):
    """Registers the BI publication functions; reads and stores nothing."""

    def configure_connection(self, conn) -> None:
        register_functions(conn)
