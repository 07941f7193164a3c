"""The BI publication: what `dbt build` publishes, atomically, and when not.

The dbt part starts from the session's small shared build (conftest.py's
``small_build``: light clustering settings, as this module tests publishing,
not clustering): the first check reads its publication, the others build
again on a copy of it (warehouse and publication). The key test holds
the published file open read-only through SQLAlchemy + duckdb_engine in a
second process, as Superset and similar tools do, while `dbt build` runs
again.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from pipeline import PROJECT_ROOT, dbt, run_command

sys.path.insert(0, str(PROJECT_ROOT / "python_jobs"))

from publishing import (  # noqa: E402
    PublicationError,
    commit_publication,
    prepare_publication,
)

BI_TABLES = {
    "customer_features",
    "customer_segments",
    "segment_profiles",
    "segment_rfm_crosstab",
    "segment_top_products",
}


def _publication_version(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        (version,) = con.sql(
            "select distinct publication_version from publication_info"
        ).fetchone()
    return version


def _storage_version(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        (tags,) = con.execute(
            "select tags from duckdb_databases() where database_name = ?",
            [database.stem],
        ).fetchone()
    return tags["storage_version"]


def _staged_leftovers(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if ".staged-" in path.name]


# --- the swap on its own, without dbt ---------------------------------------


def _stage(paths, tables: dict[str, int]) -> None:
    with duckdb.connect(paths.staged_database) as con:
        for name, rows in tables.items():
            con.execute(f"create table {name} as select range as x from range({rows})")
            con.execute(
                f"copy {name} to '{paths.staged_version_dir}/{name}.parquet' "
                "(format parquet)"
            )


def test_commit_replaces_database_and_parquet_link(tmp_path: Path) -> None:
    database = tmp_path / "published" / "segments.duckdb"
    first = prepare_publication(database, "v1")
    _stage(first, {"a": 3})
    commit_publication(first)
    second = prepare_publication(database, "v2")
    _stage(second, {"a": 5})
    commit_publication(second)

    link = database.parent / "parquet"
    assert link.is_symlink()
    assert Path(os.readlink(link)).name == "v2"
    assert pq.read_table(link / "a.parquet").num_rows == 5
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.sql("select count(*) from a").fetchone() == (5,)
    assert _staged_leftovers(database.parent) == []

    third = prepare_publication(database, "v3")
    _stage(third, {"a": 7})
    commit_publication(third)
    # the new version and the one before it are kept, older ones removed
    kept = {path.name for path in (database.parent / ".versions").iterdir()}
    assert kept == {"v2", "v3"}


def test_prepare_refuses_the_build_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(PublicationError, match="own warehouse"):
        prepare_publication(warehouse, "v1", warehouse=warehouse)


def test_prepare_removes_what_a_dead_publisher_left(tmp_path: Path) -> None:
    database = tmp_path / "segments.duckdb"
    dead = run_command(
        [sys.executable, "-c", "import os; print(os.getpid())"], check=True
    )
    pid = int(dead.stdout)
    (tmp_path / ".versions").mkdir()
    orphan_file = tmp_path / f".segments.duckdb.staged-{pid}-old"
    orphan_dir = tmp_path / ".versions" / f"old.staged-{pid}"
    orphan_file.write_text("half written")
    orphan_dir.mkdir()
    prepare_publication(database, "v1")
    assert not orphan_file.exists()
    assert not orphan_dir.exists()


def test_commit_refuses_a_database_that_was_not_detached(tmp_path: Path) -> None:
    paths = prepare_publication(tmp_path / "segments.duckdb", "v1")
    _stage(paths, {"a": 1})
    Path(paths.staged_database + ".wal").write_bytes(b"pending")
    with pytest.raises(PublicationError, match="write-ahead log"):
        commit_publication(paths)
    assert not (tmp_path / "segments.duckdb").exists()


# --- dbt build publishes ----------------------------------------------------

READER = textwrap.dedent(
    """
    import sys
    import sqlalchemy as sa

    url = "duckdb:///" + sys.argv[1] + "?access_mode=read_only"
    query = sa.text("select distinct publication_version from publication_info")

    engine = sa.create_engine(url)
    held = engine.connect()
    print("before", held.execute(query).scalar_one(), flush=True)
    sys.stdin.readline()  # held open while dbt build runs
    print("held", held.execute(query).scalar_one(), flush=True)
    held.close()
    engine.dispose()

    engine = sa.create_engine(url)
    with engine.connect() as fresh:
        print("after", fresh.execute(query).scalar_one(), flush=True)
    """
)


@pytest.fixture(scope="module")
def project(small_build, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the small shared build with its publication, and the settings
    to build again on it."""
    workdir = small_build.fork(tmp_path_factory.mktemp("publishing"), publication=True)
    published = workdir / "published" / "segments.duckdb"
    return {
        "workdir": workdir,
        "variables": small_build.variables,
        "env": {"BI_DUCKDB_PATH": str(published)},
        "published": published,
    }


def test_build_publishes_every_bi_table_with_publication_info(small_build) -> None:
    published: Path = small_build.published
    warehouse = small_build.warehouse
    with duckdb.connect(str(published), read_only=True) as con:
        tables = {row[0] for row in con.sql("show tables").fetchall()}
        info = dict(
            con.sql("select table_name, row_count from publication_info").fetchall()
        )
        model_versions = con.sql(
            "select distinct model_version from publication_info"
        ).fetchall()
    assert tables == BI_TABLES | {"publication_info"}
    assert set(info) == BI_TABLES
    # the warehouse in DuckDB 1.5's storage format (profiles.yml), the
    # publication in 1.0's, which BI tools embedding an older DuckDB open
    assert _storage_version(warehouse) == "v1.5.0+"
    assert _storage_version(published) == "v1.0.0+"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, rows in info.items():
            assert con.sql(f"select count(*) from {table}").fetchone() == (rows,)
        (segments_version,) = con.sql(
            "select distinct model_version from customer_segments"
        ).fetchone()
    assert model_versions == [(segments_version,)]

    link = published.parent / "parquet"
    assert link.is_symlink()
    for table in BI_TABLES | {"publication_info"}:
        parquet_rows = pq.read_metadata(link / f"{table}.parquet").num_rows
        assert parquet_rows == info.get(table, len(BI_TABLES))
    assert _staged_leftovers(published.parent) == []


def test_partial_build_does_not_publish(project) -> None:
    published: Path = project["published"]
    version = _publication_version(published)
    partial = dbt(
        "build",
        project["workdir"],
        project["variables"],
        args=["--select", "rfm_code_segments"],
        env=project["env"],
    )
    assert partial.returncode == 0, partial.output[-3000:]
    assert "not rebuilt in this run" in partial.output
    assert _publication_version(published) == version


def test_reader_holding_the_file_does_not_block_a_rebuild(project) -> None:
    published: Path = project["published"]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        label, old_version = _first_line(reader).split()
        assert label == "before"

        rebuild = dbt(
            "build", project["workdir"], project["variables"], env=project["env"]
        )
        assert rebuild.returncode == 0, rebuild.output[-3000:]
        assert "BI publication: published" in rebuild.output

        reader.stdin.write("go\n")
        reader.stdin.flush()
        try:
            out, err = reader.communicate(timeout=READER_TIMEOUT)
        except subprocess.TimeoutExpired:
            reader.kill()
            out, err = reader.communicate()
            pytest.fail(f"the reader hung after the rebuild:\n{out}{err}")
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    lines = dict(line.split() for line in out.splitlines())
    new_version = _publication_version(published)
    assert new_version != old_version
    # the open connection kept reading the version it opened, whole
    assert lines["held"] == old_version
    # after reconnecting the reader sees the new publication
    assert lines["after"] == new_version


# last: its other vars make dbt parse the whole project again, so the
# builds before it keep the copy's partial parse
def test_failed_build_leaves_the_publication_untouched(project) -> None:
    published: Path = project["published"]
    before = (published.stat().st_ino, _publication_version(published))
    link_before = os.readlink(published.parent / "parquet")

    failing = dbt(
        "build",
        project["workdir"],
        {**project["variables"], "raw_transactions": "/nonexistent/*.csv.gz"},
        env=project["env"],
    )
    assert failing.returncode != 0
    assert "not published" in failing.output

    assert (published.stat().st_ino, _publication_version(published)) == before
    assert os.readlink(published.parent / "parquet") == link_before
    assert _staged_leftovers(published.parent) == []


READER_TIMEOUT = 60  # seconds the reader may take to print a line or end


def _first_line(reader: subprocess.Popen) -> str:
    """The reader's first line, or a failure with its output if it hangs or dies."""
    ready, _, _ = select.select([reader.stdout], [], [], READER_TIMEOUT)
    line = reader.stdout.readline() if ready else ""
    if not line:
        reader.kill()
        out, err = reader.communicate()
        pytest.fail(
            f"the reader printed no line within {READER_TIMEOUT} s "
            f"(exit status {reader.returncode}):\n{out}{err}"
        )
    return line
