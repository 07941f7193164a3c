"""The BI publication: what `dbt build` publishes, atomically, and when not.

The slow part builds the project twice on generated data (light clustering
settings: this module tests publishing, not clustering). The key test holds
the published file open read-only through SQLAlchemy + duckdb_engine in a
second process, as Superset and similar tools do, while `dbt build` runs
again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from pipeline import PROJECT_ROOT, dbt, generate_data

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
LIGHT_SEGMENTATION = {
    "algorithms": ["kmeans"],
    "k_min": 3,
    "k_max": 4,
    "bootstrap_samples": 2,
}


def _publication_version(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        (version,) = con.sql(
            "select distinct publication_version from publication_info"
        ).fetchone()
    return version


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
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
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
def project(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Generated data, a first build, and the settings to build again."""
    workdir = tmp_path_factory.mktemp("publishing")
    raw = generate_data(workdir, customers=1500, seed=7)
    published = workdir / "published" / "segments.duckdb"
    settings = {
        "workdir": workdir,
        "variables": {
            "raw_transactions": str(raw / "*.csv.gz"),
            "segmentation": LIGHT_SEGMENTATION,
        },
        "env": {"BI_DUCKDB_PATH": str(published)},
        "published": published,
    }
    first = dbt("build", workdir, settings["variables"], env=settings["env"])
    assert first.returncode == 0, first.output[-3000:]
    settings["first"] = first
    return settings


def test_build_publishes_every_bi_table_with_publication_info(project) -> None:
    published: Path = project["published"]
    warehouse = project["first"].warehouse
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
        label, old_version = reader.stdout.readline().split()
        assert label == "before"

        rebuild = dbt(
            "build", project["workdir"], project["variables"], env=project["env"]
        )
        assert rebuild.returncode == 0, rebuild.output[-3000:]
        assert "BI publication: published" in rebuild.output

        reader.stdin.write("go\n")
        reader.stdin.flush()
        out, err = reader.communicate(timeout=60)
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
