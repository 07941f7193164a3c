"""Shared fixtures of the Python tests.

Puts ``python_jobs/`` on ``sys.path`` so the packages there (such as
``segmentation``) import as they do inside the dbt Python models.

Shared builds: one build per data set per session
-------------------------------------------------
A full ``dbt build`` takes from ten seconds to a minute, so a test that only
reads a warehouse takes one of these session fixtures instead of building
its own. Each is built once per ``pytest`` run, also under pytest-xdist (the
first worker to ask builds it under a file lock; the others wait and read
the same folder), into the session's temporary folder:

``generated_build``
    the generator's planted personas, 2,000 customers, seed 7, every setting
    at its default (full clustering, BI publication, every dbt test);
``small_build``
    300 generated customers (seed 3) with light clustering settings
    (``SMALL_SEGMENTATION``): for tests of the SQL marts, metrics, docs;
``real_build``
    the real UCI Online Retail data (../shared/data/online_retail), default
    settings. In CI a missing data set fails the test; elsewhere it skips.

(``generated_variables`` are generated_build's vars, known before it is
built: a dbt command that needs the default settings but not the warehouse
runs with them, and starts from the session's cached parse of those vars.)

Each hands out a :class:`SharedBuild`, a read-only handle shaped like
``pipeline.DbtRun`` (``returncode``, ``output``, ``warehouse``, ``query``)
plus ``arrow``, ``folder``, ``raw``, ``ground_truth``, ``variables`` and
``published``. Read it, never write it: ``query`` and ``arrow`` open the
warehouse read-only, and the session fails a test that changed the file.
A test that must build on top of a shared warehouse (an incremental run,
a second build) takes a private copy with ``build.fork(tmp_path)`` and runs
``dbt("build", folder, build.variables)`` there. Example::

    def test_every_customer_has_one_segment(generated_build):
        (features, segmented) = generated_build.query("select ...")[0]
        assert features == segmented

A module that needs other settings builds its own, once, in a
``scope="module"`` fixture, and keeps its vars the same across its builds so
that dbt's partial parsing keeps them short. The session's cache of partial
parses (``dbt-parse-cache`` beside the shared builds, see pipeline.py) seeds
every new work folder with the parse of an earlier command with the same vars.

Fail, don't skip, in CI
-----------------------
When the environment variable ``CI`` is set, a skipped test fails the run
with the skip's reason: a CI run without the real data is red, not green
with skips. ``pipeline.require_real_data()`` (or the ``real_data`` fixture)
names what is missing: it fails in CI and skips elsewhere.
``pipeline.require_tool("mf")`` fails wherever a command that
requirements.txt installs is missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

PYTHON_JOBS = Path(__file__).resolve().parents[2] / "python_jobs"
if str(PYTHON_JOBS) not in sys.path:
    sys.path.insert(0, str(PYTHON_JOBS))

from pipeline import (  # noqa: E402
    DbtRun,
    dbt,
    generate_data,
    in_ci,
    require_real_data,
    tail,
)

# --------------------------------------------------------------------------
# fail, don't skip, in CI


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The glob of the real data files (see require_real_data)."""
    return require_real_data()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """In CI, a skip (from any test or marker) fails with the skip's reason."""
    report = yield
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr
        if isinstance(reason, tuple):
            reason = reason[2]
        report.outcome = "failed"
        report.longrepr = f"CI is set, so a skip fails the run: {reason}"
    return report


# --------------------------------------------------------------------------
# the order of the test files (balance of the xdist workers)

# The test files that cost the most (their own builds, or the first need of a
# shared build), most first. `make pytest` hands whole files to the workers
# in collection order (--dist loadfile --no-loadscope-reorder), each worker
# taking the next file when it is almost done: the long files start first
# and the short ones fill in at the end, so both workers end at about the
# same time. test_eda comes second so that the shared default build, which
# many files read, is built while the other worker runs test_bad_input.
LONGEST_FILES_FIRST = (
    "test_bad_input.py",
    "test_eda.py",
    "test_model_registry.py",
    "test_faults.py",
    "test_model_maintenance.py",
    "test_benchmark.py",
    "test_planted_personas.py",
    "test_invariants.py",
    "test_report.py",
    "test_dbt_runner.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of LONGEST_FILES_FIRST first, in that order; then the rest
    in their own order. Within a file the order stays as it is."""
    rank = {name: i for i, name in enumerate(LONGEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# --------------------------------------------------------------------------
# shared builds

SMALL_SEGMENTATION = {
    "algorithms": ["kmeans"],
    "k_min": 3,
    "k_max": 4,
    "bootstrap_samples": 2,
}


@dataclass(frozen=True)
class SharedBuild:
    """A warehouse built once per session: read it, never write it."""

    name: str
    folder: Path
    variables: dict
    output: str
    returncode: int = 0
    stamp: tuple = field(default=(), repr=False, compare=False)

    @property
    def warehouse(self) -> Path:
        return self.folder / "warehouse.duckdb"

    @property
    def raw(self) -> Path:
        """The raw files of a generated set (the real data lives elsewhere)."""
        return self.folder / "raw"

    @property
    def ground_truth(self) -> Path:
        """customer_personas.csv and manifest.json of a generated set."""
        return self.folder / "ground_truth"

    @property
    def published(self) -> Path:
        """The BI publication of the build (a DuckDB file; parquet/ beside it)."""
        return self.folder / "published" / "segments.duckdb"

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection; close it (use it in a `with`)."""
        return duckdb.connect(str(self.warehouse), read_only=True)

    def query(self, sql: str) -> list[tuple]:
        with self.connect() as con:
            return con.sql(sql).fetchall()

    def arrow(self, sql: str) -> pa.Table:
        with self.connect() as con:
            table = con.sql(sql).arrow()
        return table.read_all() if isinstance(table, pa.RecordBatchReader) else table

    def fork(self, folder: Path, publication: bool = False) -> Path:
        """Copy the warehouse and dbt's target folder (parsed project) into
        `folder`, for a test that builds on top of this build; return it.

        ``dbt("build", folder, build.variables)`` then runs incrementally on
        the copy, with the publication in ``folder/published``. With
        `publication`, the build's BI publication is copied there too (its
        ``parquet`` link is relative, so it points into the copy).
        """
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.warehouse, folder / "warehouse.duckdb")
        shutil.copytree(self.folder / "target", folder / "target", dirs_exist_ok=True)
        if publication:
            shutil.copytree(self.published.parent, folder / "published", symlinks=True)
        return folder

    def unchanged(self) -> bool:
        return _file_stamp(self.warehouse) == self.stamp


def _file_stamp(path: Path) -> tuple:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's folder of shared builds, the same for every xdist worker."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # workers get <session base>/popen-gwN
    root = base / "shared-builds"
    root.mkdir(exist_ok=True)
    return root


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_build(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    build: Callable[[Path], tuple[dict, DbtRun]],
) -> SharedBuild:
    """Build `name` once per session (across xdist workers) and return it.

    `build(folder)` writes the data into folder, runs dbt with
    ``dbt(..., folder, variables)`` and returns (variables, run). A failed
    build is recorded, so every test that asks for it fails with its output
    without building again.
    """
    root = shared_root(tmp_path_factory)
    folder = root / name
    record = root / f"{name}.json"
    with _file_lock(root / f"{name}.lock"):
        if not record.exists():
            folder.mkdir()
            try:
                variables, run = build(folder)
                result = {
                    "variables": variables,
                    "returncode": run.returncode,
                    "output": run.output,
                }
            except BaseException as error:  # pytest.fail raises a BaseException
                result = {
                    "returncode": None,
                    "output": f"{type(error).__name__}: {error}",
                }
                record.write_text(json.dumps(result))
                raise
            record.write_text(json.dumps(result))
        result = json.loads(record.read_text())
    if result["returncode"] != 0:
        pytest.fail(
            f"the shared build {name!r} in {folder} failed:\n{tail(result['output'])}",
            pytrace=False,
        )
    warehouse = folder / "warehouse.duckdb"
    return SharedBuild(
        name,
        folder,
        result["variables"],
        result["output"],
        stamp=_file_stamp(warehouse),
    )


@pytest.fixture(scope="session", autouse=True)
def dbt_parse_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's cache of dbt partial parses (pipeline.ParseCacheEntry),
    beside the shared builds, so every xdist worker seeds from it."""
    import pipeline

    folder = shared_root(tmp_path_factory) / "dbt-parse-cache"
    folder.mkdir(exist_ok=True)
    pipeline.PARSE_CACHE = folder
    yield folder
    pipeline.PARSE_CACHE = None


def _checked(build: SharedBuild) -> Iterator[SharedBuild]:
    yield build
    assert build.unchanged(), (
        f"a test wrote to the shared build {build.name!r} ({build.warehouse}); "
        "fork() it instead"
    )


def _generated_variables(folder: Path, variables: dict) -> dict:
    """The dbt vars of a shared build of generated data in `folder`."""
    return {"raw_transactions": f"{folder / 'raw'}/*.csv.gz", **variables}


def _build_generated(
    folder: Path, customers: int, seed: int, variables: dict
) -> tuple[dict, DbtRun]:
    generate_data(folder, customers=customers, seed=seed)
    variables = _generated_variables(folder, variables)
    return variables, dbt("build", folder, variables)


@pytest.fixture(scope="session")
def generated_variables(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The dbt vars of generated_build, known before it is built: a dbt
    command run with them (through pipeline.dbt) starts from the session's
    cached partial parse of those vars, so it parses the project at most
    once per session for every command with the same vars."""
    return _generated_variables(shared_root(tmp_path_factory) / "generated", {})


@pytest.fixture(scope="session")
def generated_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedBuild]:
    """2,000 generated customers (seed 7), default settings, built once."""
    yield from _checked(
        shared_build(
            tmp_path_factory,
            "generated",
            lambda folder: _build_generated(folder, 2000, 7, {}),
        )
    )


@pytest.fixture(scope="session")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedBuild]:
    """300 generated customers (seed 3), light clustering settings, built once."""
    yield from _checked(
        shared_build(
            tmp_path_factory,
            "small",
            lambda folder: _build_generated(
                folder, 300, 3, {"segmentation": SMALL_SEGMENTATION}
            ),
        )
    )


@pytest.fixture(scope="session")
def real_build(
    tmp_path_factory: pytest.TempPathFactory, real_data: Path
) -> Iterator[SharedBuild]:
    """The real Online Retail data, default settings, built once."""

    def build(folder: Path) -> tuple[dict, DbtRun]:
        variables = {"raw_transactions": str(real_data)}
        return variables, dbt("build", folder, variables)

    yield from _checked(shared_build(tmp_path_factory, "real", build))


# --------------------------------------------------------------------------
# in-memory customer tables for the segmentation package

SEGMENTATION_FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "items_per_order",
    "distinct_products",
    "return_rate",
    "mean_days_between_orders",
    "weekend_order_share",
    "tenure_days",
)


def _table_from_matrix(
    X: np.ndarray, features: tuple[str, ...], ids: list[str] | None = None
) -> pa.Table:
    if ids is None:
        ids = [f"C{i:06d}" for i in range(X.shape[0])]
    columns: dict[str, pa.Array] = {"customer_id": pa.array(ids, type=pa.string())}
    for j, name in enumerate(features):
        columns[name] = pa.array(X[:, j], type=pa.float64(), from_pandas=True)
    return pa.table(columns)


@pytest.fixture(scope="session")
def segmentation_table_from_matrix() -> Callable[..., pa.Table]:
    """Build a customer table (customer_id + features) from a matrix.

    NaN values become nulls. Features default to the default feature names.
    """

    def build(
        X: np.ndarray,
        features: tuple[str, ...] = SEGMENTATION_FEATURES,
        ids: list[str] | None = None,
    ) -> pa.Table:
        return _table_from_matrix(np.asarray(X, dtype=np.float64), features, ids)

    return build


@pytest.fixture(scope="session")
def segmentation_blobs() -> tuple[pa.Table, np.ndarray]:
    """2000 customers in 4 well-separated blobs over the default features.

    Returns the table (ids in shuffled order) and the true blob of each row.
    """
    from sklearn.datasets import make_blobs

    X, truth = make_blobs(
        n_samples=2000,
        centers=4,
        n_features=len(SEGMENTATION_FEATURES),
        cluster_std=1.0,
        center_box=(-10.0, 10.0),
        random_state=7,
    )
    rng = np.random.default_rng(7)
    ids = [f"C{i:06d}" for i in rng.permutation(X.shape[0])]
    return _table_from_matrix(X, SEGMENTATION_FEATURES, ids), truth


@pytest.fixture(scope="session")
def segmentation_customers() -> pa.Table:
    """3000 synthetic retail customers with skewed, partly null features."""
    rng = np.random.default_rng(11)
    n = 3000
    frequency = (
        1 + rng.geometric(0.35, n) - 1 + (rng.random(n) < 0.1) * rng.poisson(8, n)
    )
    order_value = rng.lognormal(5.5, 0.8, n)
    items = rng.lognormal(3.0, 0.9, n)
    returns = np.where(rng.random(n) < 0.3, rng.beta(1, 8, n), 0.0)
    gross = frequency * order_value
    monetary = gross * (1 - returns) - np.where(rng.random(n) < 0.01, 1.5 * gross, 0)
    recency = rng.integers(1, 700, n).astype(float)
    tenure = recency + rng.integers(0, 500, n) * (frequency > 1)
    between = np.where(
        frequency > 1, (tenure - recency) / np.maximum(frequency - 1, 1), np.nan
    )
    distinct = np.maximum(1, (frequency * items * rng.uniform(0.05, 0.3, n)).round())
    weekend = rng.binomial(frequency, 0.15) / frequency
    X = np.column_stack(
        [
            recency,
            frequency,
            monetary.round(2),
            order_value.round(2),
            items.round(2),
            distinct,
            returns.round(4),
            between,
            weekend.round(4),
            tenure,
        ]
    )
    return _table_from_matrix(X, SEGMENTATION_FEATURES)
