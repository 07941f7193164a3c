"""dbt-duckdb plugin: the raw-file checks on dbt's DuckDB connection.

Declared in profiles.yml under ``plugins:`` (module ``raw_files.dbt_plugin``).
dbt-duckdb calls :meth:`Plugin.configure_connection` on every new
connection, which registers ``raw_gzip_problem(path)`` for the
`check_raw_transactions_location` macro and ``raw_files_facts(paths,
encoding)`` for the survey (raw_file_attributes), and calls the latter once
on no file.

That call is for speed: DuckDB's first call of any Python function imports
pandas and its dependencies (about 390 modules, 0.2 s alone). Made by the
survey, that import ran beside dbt's other thread, and each of its file
reads waited for the interpreter lock: the survey's first query took 0.76
to 0.92 s on the real data, 0.2 s of it in the function. Made here, while
dbt opens its connection, it runs alone.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from .gzip_integrity import register_functions


class Plugin(BasePlugin):
    """Registers the raw-file check functions; reads and stores nothing."""

    def configure_connection(self, conn) -> None:
        register_functions(conn)
        conn.execute("select raw_files_facts([]::varchar[], 'utf-8')").fetchall()
