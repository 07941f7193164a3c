"""Checks on the raw export files that DuckDB's readers cannot make."""

from .gzip_integrity import file_facts, files_facts, gzip_problem, register_functions

__all__ = ["file_facts", "files_facts", "gzip_problem", "register_functions"]
