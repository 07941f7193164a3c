"""MetricFlow answers the customer metrics by segment and persona.

`mf` reads the semantic manifest from `<project>/target/` of the folder it
runs in and takes no target path, so the build runs in a throwaway copy of
the project made of symbolic links (its own target/ and logs/), against its
own warehouse. Light clustering settings: this module tests the metrics.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pipeline import PROJECT_ROOT, DbtRun, generate_data

MF = Path(sys.executable).with_name("mf")
DBT = Path(sys.executable).with_name("dbt")
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
LIGHT_SEGMENTATION = {
    "algorithms": ["kmeans"],
    "k_min": 3,
    "k_max": 4,
    "bootstrap_samples": 2,
}

pytestmark = pytest.mark.skipif(
    not MF.exists(), reason="dbt-metricflow is not installed"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict:
    workdir = tmp_path_factory.mktemp("metrics")
    raw = generate_data(workdir, customers=1500, seed=11)
    shadow = workdir / "project"
    shadow.mkdir()
    for entry in PROJECT_ENTRIES:
        if (PROJECT_ROOT / entry).exists():
            (shadow / entry).symlink_to(PROJECT_ROOT / entry)
    warehouse = workdir / "warehouse.duckdb"
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(shadow),
        "DUCKDB_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    variables = json.dumps(
        {
            "raw_transactions": f"{raw}/*.csv.gz",
            "publish_for_bi": False,
            "segmentation": LIGHT_SEGMENTATION,
        }
    )
    build = subprocess.run(
        [
            str(DBT),
            "build",
            "--vars",
            variables,
            "--exclude-resource-type",
            "test",
            "unit_test",
        ],
        cwd=shadow,
        env=env,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    assert (shadow / "target" / "semantic_manifest.json").exists()
    return {"shadow": shadow, "env": env, "warehouse": DbtRun(0, "", warehouse)}


def mf_query(project: dict, metrics: list[str], group_by: list[str]) -> list[dict]:
    out = project["shadow"] / f"mf_{'_'.join(metrics)}_{'_'.join(group_by)}.csv"
    done = subprocess.run(
        [
            str(MF),
            "query",
            "--metrics",
            ",".join(metrics),
            *(["--group-by", ",".join(group_by)] if group_by else []),
            "--csv",
            str(out),
        ],
        cwd=project["shadow"],
        env=project["env"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and out.exists(), (done.stdout + done.stderr)[-3000:]
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
