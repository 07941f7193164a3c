"""Checks on the raw export files that DuckDB's readers cannot make."""

from .gzip_integrity import gzip_problem, register_functions

__all__ = ["gzip_problem", "register_functions"]
