"""dbt docs: generated offline, complete lineage, every node described.

`dbt docs generate` runs on a copy of the session's small shared build with
every proxy pointed at a closed port, so anything that reached for the
network would fail. The lineage checks read the manifest it writes. The docs coverage of the
project is checked once, by `make docs-check`; here only the checker
(python_jobs/check_docs_coverage.py) is tested, on a manifest made to fail.
"""

from __future__ import annotations

import json
import sys

import pytest
from pipeline import PROJECT_ROOT, dbt, tail

sys.path.insert(0, str(PROJECT_ROOT / "python_jobs"))

import check_docs_coverage  # noqa: E402

PROJECT = "customer_segmentation"
OFFLINE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
}


def model(name: str) -> str:
    return f"model.{PROJECT}.{name}"


def seed(name: str) -> str:
    return f"seed.{PROJECT}.{name}"


@pytest.fixture(scope="module")
def docs(small_build, tmp_path_factory: pytest.TempPathFactory) -> dict:
    # a copy of the small shared build: its parsed project and the same vars
    # keep dbt's parse short
    workdir = small_build.fork(tmp_path_factory.mktemp("docs"))
    target = workdir / "target"
    run = dbt("docs generate", workdir, small_build.variables, env=OFFLINE)
    assert run.returncode == 0, tail(run.output)
    for artifact in ("index.html", "manifest.json", "catalog.json"):
        assert (target / artifact).exists(), artifact
    return json.loads((target / "manifest.json").read_text())


def parents(manifest: dict, unique_id: str) -> set[str]:
    node = manifest["nodes"].get(unique_id) or manifest["exposures"][unique_id]
    return set(node["depends_on"]["nodes"])


def ancestors(manifest: dict, unique_id: str) -> set[str]:
    seen: set[str] = set()
    todo = [unique_id]
    while todo:
        current = todo.pop()
        node = manifest["nodes"].get(current) or manifest["exposures"].get(current)
        for parent in (node or {}).get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_lineage_from_raw_files_to_profiles(docs) -> None:
    source = f"source.{PROJECT}.online_retail.transaction_files"
    # the files are surveyed, then parsed; duplicates found over the parsed lines
    assert source in parents(docs, model("base_online_retail__raw_files"))
    assert {source, model("base_online_retail__raw_files")} <= parents(
        docs, model("base_online_retail__lines_parsed")
    )
    assert {
        model("base_online_retail__lines_parsed"),
        model("base_online_retail__duplicate_lines"),
    } <= parents(docs, model("base_online_retail__lines_read"))
    assert model("base_online_retail__lines_read") in parents(
        docs, model("stg_online_retail__transaction_lines")
    )
    assert {
        model("int_customers_aggregated_from_invoices"),
        seed("rfm_segment_grid"),
    } <= parents(docs, model("customer_features"))

    # the fit, flattened once per artifact, scored once
    fit = model("segmentation_model_artifacts")
    assert docs["nodes"][fit]["language"] == "python"
    # the retrain decision is made in SQL before the fit, and the settings
    # (checked and defaulted in Jinja) reach it as a one-row model
    decision = model("int_segmentation_retrain_decision")
    settings = model("int_segmentation_settings")
    assert parents(docs, fit) == {model("customer_features"), decision, settings}
    assert parents(docs, settings) == set()
    assert parents(docs, decision) == {model("customer_features")}
    artifacts = {
        model(f"int_segmentation_model_{name}")
        for name in (
            "in_use",
            "features",
            "quantile_knots",
            "centroids",
            "segments",
            "candidates",
            "reference_bins",
        )
    }
    for flat in artifacts:
        assert parents(docs, flat) == {fit}
    not_for_scoring = {
        model("int_segmentation_model_candidates"),
        model("int_segmentation_model_reference_bins"),
    }
    assert parents(docs, model("int_customers_scored")) == {
        model("customer_features")
    } | (artifacts - not_for_scoring)
    # everything downstream reads the scores; nothing reads the fit directly
    for reader in (
        "customer_segments",
        "int_segments_z_scored",
        "segment_drift",
        "segment_top_products",
    ):
        assert model("int_customers_scored") in parents(docs, model(reader))
    # the personas are named from the segments' z-scores, not per customer
    assert model("int_segments_z_scored") in parents(docs, model("segment_personas"))
    assert model("int_customers_scored") not in parents(docs, model("segment_personas"))
    readers_of_fit = {
        node for node in docs["child_map"][fit] if node.startswith("model.")
    }
    assert readers_of_fit == artifacts | {model("segmentation_models")}

    assert parents(docs, model("segment_profiles")) == {
        model("customer_segments"),
        model("customer_features"),
        model("segment_personas"),
        model("segment_top_products"),
        seed("rfm_code_segments"),
    }
    assert parents(docs, model("segment_rfm_crosstab")) == {
        model("customer_segments"),
        seed("rfm_segment_grid"),
        seed("rfm_code_segments"),
    }
    # the whole chain, raw files to what marketers read
    assert {
        source,
        model("stg_online_retail__transaction_lines"),
        model("customer_features"),
        model("segmentation_model_artifacts"),
        model("int_customers_scored"),
    } <= ancestors(docs, model("segment_profiles"))


def test_exposures_read_the_bi_tables(docs) -> None:
    exposures = {e["name"]: e for e in docs["exposures"].values()}
    assert set(exposures) >= {
        "segment_overview_dashboard",
        "customer_segment_explorer",
        "campaign_audience_export",
    }
    read = set().union(*(set(e["depends_on"]["nodes"]) for e in exposures.values()))
    assert {
        model("segment_profiles"),
        model("customer_segments"),
        model("customer_features"),
        model("segment_rfm_crosstab"),
    } <= read
    overview = exposures["segment_overview_dashboard"]
    assert f"source.{PROJECT}.online_retail.transaction_files" in ancestors(
        docs, overview["unique_id"]
    )


def test_bi_tables_have_enforced_contracts(docs) -> None:
    bi_models = [
        node
        for node in docs["nodes"].values()
        if node["resource_type"] == "model" and "bi" in node["tags"]
    ]
    names = {node["name"] for node in bi_models}
    assert {"customer_features", "customer_segments", "segment_profiles"} <= names
    for node in bi_models:
        assert node["contract"]["enforced"], node["name"]
        untyped = [
            c for c, column in node["columns"].items() if not column["data_type"]
        ]
        assert untyped == [], node["name"]


def test_overview_page_exists(docs) -> None:
    overview = docs["docs"][f"doc.{PROJECT}.__overview__"]
    assert "segment_profiles" in overview["block_contents"]


def test_coverage_check_flags_what_is_missing() -> None:
    manifest = {
        "metadata": {"project_name": "p"},
        "nodes": {
            "model.p.a": {
                "resource_type": "model",
                "package_name": "p",
                "name": "a",
                "original_file_path": "models/a.sql",
                "description": "",
                "columns": {"id": {"description": ""}},
            },
            "model.p.b": {
                "resource_type": "model",
                "package_name": "p",
                "name": "b",
                "original_file_path": "models/b.sql",
                "description": "B.",
                "columns": {"id": {"description": "Key."}},
            },
            "test.p.unique_b_id": {
                "resource_type": "test",
                "package_name": "p",
                "test_metadata": {"name": "unique"},
                "attached_node": "model.p.b",
                "column_name": "id",
                "depends_on": {"nodes": ["model.p.b"]},
            },
            "test.p.not_null_b_id": {
                "resource_type": "test",
                "package_name": "p",
                "test_metadata": {"name": "not_null"},
                "attached_node": "model.p.b",
                "column_name": "id",
                "depends_on": {"nodes": ["model.p.b"]},
            },
        },
        "sources": {},
        "macros": {
            "macro.p.m": {
                "unique_id": "macro.p.m",
                "package_name": "p",
                "name": "m",
                "original_file_path": "macros/m.sql",
                "description": "M.",
                "arguments": [],
                "macro_sql": "{% macro m(x, y=1) %}{{ x }}{% endmacro %}",
            }
        },
    }
    gaps = check_docs_coverage.find_gaps(manifest)
    assert gaps == [
        "model a (models/a.sql): no description",
        "model a (models/a.sql): column id has no description",
        "model a (models/a.sql): no key test (unique + not_null on a column, "
        "or a key of several columns in column_rules' unique)",
        "macro m (macros/m.sql): argument x is not documented",
        "macro m (macros/m.sql): argument y is not documented",
    ]
    catalog = {"nodes": {"model.p.b": {"columns": {"ID": {}, "extra": {}}}}}
    assert "model b (models/b.sql): column extra is not documented" in (
        check_docs_coverage.find_gaps(manifest, catalog)
    )


def test_a_column_rules_not_null_list_counts_as_the_key_not_null() -> None:
    """`unique` on a column plus that column in a column_rules test's
    not_null list is a key test; the same test listing another column is not."""

    def manifest(not_null: list[str]) -> dict:
        test = {
            "resource_type": "test",
            "package_name": "p",
            "attached_node": "model.p.c",
            "depends_on": {"nodes": ["model.p.c"]},
        }
        return {
            "metadata": {"project_name": "p"},
            "nodes": {
                "model.p.c": {
                    "resource_type": "model",
                    "package_name": "p",
                    "name": "c",
                    "original_file_path": "models/c.sql",
                    "description": "C.",
                    "columns": {
                        "id": {"description": "Key."},
                        "other": {"description": "Other."},
                    },
                },
                "test.p.unique_c_id": {
                    **test,
                    "test_metadata": {"name": "unique"},
                    "column_name": "id",
                },
                "test.p.column_rules_c": {
                    **test,
                    "test_metadata": {
                        "name": "column_rules",
                        "kwargs": {"not_null": not_null},
                    },
                },
            },
            "sources": {},
            "macros": {},
        }

    assert check_docs_coverage.find_gaps(manifest(["other", "id"])) == []
    assert check_docs_coverage.find_gaps(manifest(["other"])) == [
        "model c (models/c.sql): no key test (unique + not_null on a column, "
        "or a key of several columns in column_rules' unique)"
    ]


def test_column_rules_keys_count_as_key_tests() -> None:
    """A column_rules test's `unique` keys: one column needs that column in
    a not_null list too, a key of several columns is a key test alone."""

    def gaps(kwargs: dict) -> list[str]:
        return check_docs_coverage.find_gaps(
            {
                "metadata": {"project_name": "p"},
                "nodes": {
                    "model.p.d": {
                        "resource_type": "model",
                        "package_name": "p",
                        "name": "d",
                        "original_file_path": "models/d.sql",
                        "description": "D.",
                        "columns": {},
                    },
                    "test.p.column_rules_d": {
                        "resource_type": "test",
                        "package_name": "p",
                        "attached_node": "model.p.d",
                        "depends_on": {"nodes": ["model.p.d"]},
                        "test_metadata": {"name": "column_rules", "kwargs": kwargs},
                    },
                },
                "sources": {},
                "macros": {},
            }
        )

    missing = [
        "model d (models/d.sql): no key test (unique + not_null on a column, "
        "or a key of several columns in column_rules' unique)"
    ]
    assert gaps({"not_null": ["id"], "unique": ["id"]}) == []
    assert gaps({"not_null": ["id"], "unique": [["id"]]}) == []
    assert gaps({"unique": [["a", "b"]]}) == []
    assert gaps({"unique": ["id"]}) == missing
    assert gaps({"not_null": ["other"], "unique": ["id"]}) == missing
    assert gaps({"not_null": ["id"]}) == missing
