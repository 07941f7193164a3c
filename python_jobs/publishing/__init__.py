"""Publish the BI-facing tables to a DuckDB file and Parquet files, atomically.

The build writes its own warehouse file; BI tools read a *publication*
beside it that is replaced as a whole after every successful `dbt build`.
The SQL side (the `publish_for_bi` macro, run as an on-run-end hook) copies
the tables into staged files; this package prepares the staged paths and
renames them into place, and is registered on dbt's DuckDB connection as
two SQL functions by the dbt-duckdb plugin in :mod:`publishing.dbt_plugin`.

Layout of a publication (``BI_DUCKDB_PATH``, default
``published/segments.duckdb``)::

    published/segments.duckdb        the tables + publication_info
    published/parquet -> .versions/<version>     (a symbolic link)
    published/.versions/<version>/<table>.parquet

Readers see the previous publication or the new one, never a mix: the
DuckDB file and the Parquet link are each replaced by a single rename.
"""

from .publication import (
    PublicationError,
    PublicationPaths,
    commit_publication,
    prepare_publication,
    register_functions,
)

__all__ = [
    "PublicationError",
    "PublicationPaths",
    "commit_publication",
    "prepare_publication",
    "register_functions",
]
