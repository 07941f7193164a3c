"""The project installed as a dbt package of another dbt project.

tests/host_project is a small host project with its own order lines (other
column names than Online Retail) and its own models named like two of ours
(customer_features, stg_orders) and a macro named like one of ours
(score_customers). One build per session, in a temporary copy, following
README "Use it from your own dbt project" step by step:

1. packages.yml: a `local:` entry (CUSTOMER_SEGMENTATION_DIR = this
   repository), then `dbt deps`;
2. `pip install dbt_packages/customer_segmentation/python_jobs`; here with
   `--target` into the build's own folder put on PYTHONPATH, because a test
   never installs into the shared venv (pip fetches the build backend,
   setuptools, from PyPI); the host profile has no module_paths;
3. the vars and the schema config of the host's dbt_project.yml, the
   profile from DUCKDB_PATH; then `dbt build`.

Then: the segment tables are in the package's schema, every row of the
host's order_lines is staged or rejected, and target/manifest.json carries
the lineage from the host's order_lines to the segments, with nothing of the
package resolved to the host's look-alikes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from pipeline import PROJECT_ROOT, generate_data, require_tool, run_command, tail

HOST_SOURCE = PROJECT_ROOT / "tests" / "host_project"
PACKAGE = "customer_segmentation"
HOST = "host_shop"
# <target schema>_<the +schema the host's dbt_project.yml gives the package>
PACKAGE_SCHEMA = "main_segmentation"
SEGMENT_MODELS = ("customer_segments", "segment_profiles", "segment_personas")


@dataclass(frozen=True)
class HostBuild:
    folder: Path
    deps_output: str
    output: str
    returncode: int

    @property
    def project(self) -> Path:
        return self.folder / "host"

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.folder / "host.duckdb"), read_only=True) as con:
            return con.sql(sql).fetchall()

    def manifest(self) -> dict:
        return json.loads((self.project / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def host_build(tmp_path_factory) -> HostBuild:
    folder = tmp_path_factory.mktemp("host_project")
    raw = generate_data(folder, customers=300, seed=7)
    host = folder / "host"
    shutil.copytree(
        HOST_SOURCE,
        host,
        ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "*.lock*"),
    )
    dbt = require_tool("dbt")
    env = {
        key: value
        for key, value in os.environ.items()
        # the standalone project's settings, which a host does not have
        if key not in ("DBT_PROJECT_ROOT", "DBT_PROFILES_DIR", "BI_DUCKDB_PATH")
    }
    env.update(
        DBT_PROFILES_DIR=str(host),
        DUCKDB_PATH=str(folder / "host.duckdb"),
        CUSTOMER_SEGMENTATION_DIR=str(PROJECT_ROOT),
        ORDER_LINE_FILES=str(raw / "*.csv.gz"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    deps = run_command([str(dbt), "deps"], cwd=host, env=env)
    assert deps.returncode == 0, tail(deps.stdout + deps.stderr)
    site = folder / "site-packages"
    run_command(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(host / "dbt_packages" / PACKAGE / "python_jobs"),
        ],
        cwd=host,
        check=True,
    )
    env["PYTHONPATH"] = str(site)
    build = run_command([str(dbt), "build"], cwd=host, env=env)
    return HostBuild(
        folder, deps.stdout + deps.stderr, build.stdout + build.stderr, build.returncode
    )


def test_deps_installs_the_local_package_offline(host_build):
    assert f"Installed from <local @ {PROJECT_ROOT}>" in host_build.deps_output
    installed = host_build.project / "dbt_packages" / PACKAGE
    assert (installed / "dbt_project.yml").read_text() == (
        PROJECT_ROOT / "dbt_project.yml"
    ).read_text()


def test_the_host_build_passes_without_publication_or_plugins(host_build):
    assert host_build.returncode == 0, tail(host_build.output)
    assert "Completed successfully" in host_build.output
    # the publication is opt-in for a host: off, said so, nothing written
    assert "BI publication: off" in host_build.output
    assert not (host_build.project / "published").exists()


def test_segment_tables_are_in_the_package_schema(host_build):
    tables = dict(
        host_build.query(
            "select table_name, table_schema from information_schema.tables"
            " where table_name in ('customer_segments', 'segment_profiles',"
            " 'segment_personas', 'customer_features', 'stg_orders', 'order_lines')"
            " order by all"
        )
    )
    for model in SEGMENT_MODELS:
        assert host_build.query(
            "select count(*) from information_schema.tables"
            f" where table_schema = '{PACKAGE_SCHEMA}' and table_name = '{model}'"
        ) == [(1,)], model
    [(segmented,)] = host_build.query(
        f"select count(*) from {PACKAGE_SCHEMA}.customer_segments"
    )
    [(customers,)] = host_build.query(
        f"select count(*) from {PACKAGE_SCHEMA}.customer_features"
    )
    assert segmented == customers > 100
    [(segments,)] = host_build.query(
        f"select count(*) from {PACKAGE_SCHEMA}.segment_profiles"
    )
    assert 3 <= segments <= 4  # the host's k_min, k_max
    assert tables["order_lines"] == "main"


def test_the_hosts_look_alike_models_are_its_own(host_build):
    """The host's customer_features and stg_orders stay the host's (main),
    the package's are in its schema, with their own columns."""

    def columns(schema, table):
        return [
            name
            for (name,) in host_build.query(
                "select column_name from information_schema.columns"
                f" where table_schema = '{schema}' and table_name = '{table}'"
                " order by ordinal_position"
            )
        ]

    assert columns("main", "customer_features") == ["customer", "orders"]
    assert columns("main", "stg_orders") == ["order_number", "customer", "lines"]
    package_features = columns(PACKAGE_SCHEMA, "customer_features")
    assert {"customer_id", "recency_days", "frequency", "monetary"} <= set(
        package_features
    )


def test_every_row_of_the_hosts_order_lines_is_staged_or_rejected(host_build):
    [(order_lines,)] = host_build.query("select count(*) from main.order_lines")
    assert order_lines > 10_000
    [(source, lines_read, staged, rejected)] = host_build.query(
        "select source_file, lines_read, lines_staged, lines_rejected"
        f" from {PACKAGE_SCHEMA}.source_file_loads"
    )
    assert source == "main.order_lines"
    assert lines_read == order_lines
    assert staged + rejected == lines_read
    assert rejected > 0  # the generated data plant bad lines
    [(staged_rows,)] = host_build.query(
        f"select count(*) from {PACKAGE_SCHEMA}.stg_online_retail__transaction_lines"
    )
    assert staged_rows == staged


def _ancestors(manifest: dict, unique_id: str) -> set[str]:
    seen, todo = set(), [unique_id]
    while todo:
        node = manifest["nodes"].get(todo.pop())
        for parent in node["depends_on"].get("nodes", []) if node else []:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_lineage_runs_from_the_hosts_order_lines_to_the_segments(host_build):
    manifest = host_build.manifest()
    order_lines = f"model.{HOST}.order_lines"
    for model in SEGMENT_MODELS:
        assert order_lines in _ancestors(manifest, f"model.{PACKAGE}.{model}"), model
    # nothing of the package, tests included, resolves to the host's
    # look-alikes; its only host parent is the order lines it was given
    host_parents = {
        parent
        for node in manifest["nodes"].values()
        if node["package_name"] == PACKAGE
        for parent in node["depends_on"].get("nodes", [])
        if parent.split(".")[1] == HOST
    }
    assert host_parents == {order_lines}
    assert manifest["nodes"][f"model.{HOST}.customer_features"]["depends_on"][
        "nodes"
    ] == [f"model.{HOST}.stg_orders"]


def test_the_package_calls_its_own_macros(host_build):
    manifest = host_build.manifest()
    assert f"macro.{HOST}.score_customers" in manifest["macros"]
    calls = {
        macro
        for node in manifest["nodes"].values()
        if node["package_name"] == PACKAGE
        for macro in node["depends_on"].get("macros", [])
    }
    assert f"macro.{PACKAGE}.score_customers" in calls
    assert not {macro for macro in calls if macro.split(".")[1] == HOST}
