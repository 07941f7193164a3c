"""Pause a dbt process at a chosen point so that a test can kill it there.

test_faults.py puts this folder first on PYTHONPATH of the dbt process it
starts; Python imports ``sitecustomize`` at start-up. Nothing changes unless
FAULT_MARKER is set, and then only at the point one of these names:

FAULT_PAUSE_BEFORE_RENAME_TO=<absolute path>
    ``os.rename`` / ``os.replace`` onto that path (the publication commit)
    writes FAULT_MARKER and sleeps instead of renaming.
FAULT_PAUSE_AFTER_INSERT_INTO=<table name>
    after dbt-duckdb ran an ``insert into`` that table, the next statement
    of the same dbt thread (the model's post-hook or its commit) writes
    FAULT_MARKER and sleeps first: the rows are written, not committed.
FAULT_PAUSE_IN_PYTHON_MODEL=1
    ``segmentation.warehouse.read_retrain_decision``, the first thing the
    Python model segmentation_model_artifacts calls, writes FAULT_MARKER
    and sleeps first: the process is inside the Python model (whether the
    model then fits, reuses a registered model or records nothing).

The test waits for the marker, looks at the warehouse and the publication
while the process hangs there, and kills it; or, with FAULT_RESUME=<path>,
creates that file to let the process go on.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import re
import sys
import threading
import time

MARKER = os.environ.get("FAULT_MARKER")
RENAME_TO = os.environ.get("FAULT_PAUSE_BEFORE_RENAME_TO")
INSERT_INTO = os.environ.get("FAULT_PAUSE_AFTER_INSERT_INTO")
IN_PYTHON_MODEL = os.environ.get("FAULT_PAUSE_IN_PYTHON_MODEL")
RESUME = os.environ.get("FAULT_RESUME")
CURSOR_MODULE = "dbt.adapters.duckdb.environments.local"
MODEL_READER_MODULE = "segmentation.warehouse"


def _pause(where: str) -> None:
    with open(MARKER, "w") as handle:
        handle.write(f"{os.getpid()} {where}\n")
    while not (RESUME and os.path.exists(RESUME)):
        time.sleep(0.05)


def _pause_renames() -> None:
    for name in ("rename", "replace"):
        original = getattr(os, name)

        def wrapped(src, dst, *args, _original=original, _name=name, **kwargs):
            if os.fspath(dst) == RENAME_TO:
                _pause(f"before os.{_name}({os.fspath(src)!r}, {RENAME_TO!r})")
            return _original(src, dst, *args, **kwargs)

        setattr(os, name, wrapped)


def _patch_cursor(module) -> None:
    inserting = re.compile(
        rf"\binsert\s+into\s+[^\s(]*\b{re.escape(INSERT_INTO)}\b", re.IGNORECASE
    )
    wrapper = module.DuckDBCursorWrapper
    original = wrapper.execute
    state = threading.local()  # dbt runs one node at a time per thread

    def execute(self, sql, bindings=None):
        if getattr(state, "inserted", False):
            _pause(f"after insert into {INSERT_INTO}, before: {sql[:200]!r}")
        result = original(self, sql, bindings)
        if inserting.search(sql):
            state.inserted = True
        return result

    wrapper.execute = execute


def _patch_model_reader(module) -> None:
    original = module.read_retrain_decision

    def read_retrain_decision(*args, **kwargs):
        _pause("in the Python model, at read_retrain_decision")
        return original(*args, **kwargs)

    module.read_retrain_decision = read_retrain_decision


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patch a module right after it is loaded (`patch(module)`)."""

    def __init__(self, name: str, patch) -> None:
        self.name = name
        self.patch = patch

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        loader_exec = spec.loader.exec_module

        def exec_module(module):
            loader_exec(module)
            self.patch(module)

        spec.loader.exec_module = exec_module
        return spec


if MARKER and RENAME_TO:
    _pause_renames()
if MARKER and INSERT_INTO:
    sys.meta_path.insert(0, _PatchOnImport(CURSOR_MODULE, _patch_cursor))
if MARKER and IN_PYTHON_MODEL:
    sys.meta_path.insert(0, _PatchOnImport(MODEL_READER_MODULE, _patch_model_reader))
