"""Tuning of the dbt process that builds the DuckDB warehouse."""

from .garbage_collection import tune_garbage_collector

__all__ = ["tune_garbage_collector"]
