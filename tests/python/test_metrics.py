"""MetricFlow answers the customer metrics by segment and persona.

Reads the session's shared small build (conftest.py). `mf` reads the
semantic manifest from `<project>/target/` of the folder it runs in and
opens the warehouse for writing, so it runs in a throwaway copy of the
project made of symbolic links, with the build's semantic manifest in its
own target/ and its own copy of the warehouse.
"""

from __future__ import annotations

import csv
import os
import shutil

import pytest
from pipeline import PROJECT_ROOT, require_tool, run_command, tail

PROJECT_ENTRIES = [
    "dbt_project.yml",
    "profiles.yml",
    "models",
    "macros",
    "seeds",
    "snapshots",
    "tests",
    "analyses",
    "python_jobs",
]


@pytest.fixture(scope="module")
def project(small_build, tmp_path_factory: pytest.TempPathFactory) -> dict:
    mf = require_tool("mf")
    workdir = tmp_path_factory.mktemp("metrics")
    shadow = workdir / "project"
    shadow.mkdir()
    for entry in PROJECT_ENTRIES:
        if (PROJECT_ROOT / entry).exists():
            (shadow / entry).symlink_to(PROJECT_ROOT / entry)
    (shadow / "target").mkdir()
    semantic_manifest = small_build.folder / "target" / "semantic_manifest.json"
    assert semantic_manifest.exists(), "the build wrote no semantic manifest"
    shutil.copyfile(semantic_manifest, shadow / "target" / "semantic_manifest.json")
    warehouse = small_build.fork(workdir / "build") / "warehouse.duckdb"
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(shadow),
        "DUCKDB_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return {"mf": mf, "shadow": shadow, "env": env, "warehouse": small_build}


def mf_query(project: dict, metrics: list[str], group_by: list[str]) -> list[dict]:
    out = project["shadow"] / f"mf_{'_'.join(metrics)}_{'_'.join(group_by)}.csv"
    done = run_command(
        [
            str(project["mf"]),
            "query",
            "--metrics",
            ",".join(metrics),
            *(["--group-by", ",".join(group_by)] if group_by else []),
            "--csv",
            str(out),
        ],
        cwd=project["shadow"],
        env=project["env"],
    )
    assert done.returncode == 0 and out.exists(), tail(done.stdout + done.stderr)
    with open(out) as handle:
        return list(csv.DictReader(handle))


def test_customers_revenue_and_aov_by_segment(project) -> None:
    rows = mf_query(
        project,
        ["customers", "revenue", "average_order_value"],
        ["customer__segment_name"],
    )
    expected = {
        name: (customers, revenue, aov)
        for name, customers, revenue, aov in project["warehouse"].query(
            """
            select
                segments.segment_name,
                count(*),
                sum(features.monetary),
                sum(features.gross_sales_amount) / sum(features.frequency)
            from customer_segments as segments
            inner join customer_features as features
                on segments.customer_id = features.customer_id
            group by segments.segment_name
            """
        )
    }
    answered = {row["customer__segment_name"]: row for row in rows}
    assert set(answered) == set(expected)
    for name, (customers, revenue, aov) in expected.items():
        assert int(answered[name]["customers"]) == customers
        assert float(answered[name]["revenue"]) == pytest.approx(revenue, rel=1e-9)
        assert float(answered[name]["average_order_value"]) == pytest.approx(
            aov, rel=1e-9
        )


def test_revenue_per_customer_by_persona(project) -> None:
    rows = mf_query(
        project, ["revenue_per_customer", "orders"], ["customer__persona_key"]
    )
    expected = dict(
        (key, (revenue_per_customer, orders))
        for key, revenue_per_customer, orders in project["warehouse"].query(
            """
            select segments.persona_key, avg(features.monetary), sum(features.frequency)
            from customer_segments as segments
            inner join customer_features as features
                on segments.customer_id = features.customer_id
            group by segments.persona_key
            """
        )
    )
    answered = {row["customer__persona_key"]: row for row in rows}
    assert set(answered) == set(expected)
    for key, (revenue_per_customer, orders) in expected.items():
        assert float(answered[key]["revenue_per_customer"]) == pytest.approx(
            revenue_per_customer
        )
        assert int(answered[key]["orders"]) == orders
