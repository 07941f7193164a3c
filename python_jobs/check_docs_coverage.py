"""Fail when the dbt project has undocumented nodes or models without a key test.

Reads the manifest that `dbt parse` (or `dbt docs generate`) writes and
lists, for the project's own resources:

- models, seeds, snapshots, sources, macros, exposures, semantic models and
  metrics without a description;
- documented columns (and source columns) without a description, and, when
  a catalog is given (`dbt docs generate` writes catalog.json), columns of
  the built tables that the YAML does not document at all;
- macro arguments (from the signature) that the YAML does not document;
- models without a key test: `unique` and `not_null` on the same column
  (a column in the `unique` or `not_null` list of a `column_rules` test
  counts), or a key of several columns in a `column_rules` `unique` list;
  or, for a table of every raw line, whose
  key a full test would aggregate again, `meta: key_by_construction:`
  naming the cheap test that stands for it.

Exit status 0 when nothing is missing, 1 otherwise (every gap is printed).

    python python_jobs/check_docs_coverage.py --manifest target/manifest.json \
        [--catalog target/catalog.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

KEY_TESTS = {"unique", "not_null", "column_rules"}
_SIGNATURE = re.compile(
    r"{%-?\s*(?:macro|test|materialization)\s+\w+\s*\((.*?)\)\s*-?%}", re.S
)
_TEST_ARGUMENTS = {"model", "column_name"}


def _described(item: dict) -> bool:
    return bool((item.get("description") or "").strip())


def _signature_arguments(macro_sql: str) -> list[str]:
    match = _SIGNATURE.search(macro_sql)
    if not match or not match.group(1).strip():
        return []
    names = []
    for part in match.group(1).split(","):
        name = part.split("=")[0].strip()
        if name and not name.startswith("*"):
            names.append(name)
    return names


def _key_tested_models(manifest: dict) -> set[str]:
    """Models with unique + not_null on one column or a key of several."""
    tests_by_column: dict[tuple[str, str], set[str]] = defaultdict(set)
    keyed = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        name = (node.get("test_metadata") or {}).get("name")
        if name not in KEY_TESTS:
            continue
        target = node.get("attached_node") or next(
            iter(node["depends_on"]["nodes"]), None
        )
        if target is None:
            continue
        if name == "column_rules":
            kwargs = node["test_metadata"].get("kwargs") or {}
            # its not_null list: a not_null per column
            for column in kwargs.get("not_null", []):
                tests_by_column[(target, column)].add("not_null")
            # its keys: a column (a unique on it) or several columns
            for key in kwargs.get("unique", []):
                columns = [key] if isinstance(key, str) else key
                if len(columns) == 1:
                    tests_by_column[(target, columns[0])].add("unique")
                else:
                    keyed.add(target)
        else:
            tests_by_column[(target, node.get("column_name") or "")].add(name)
    for (target, _column), names in tests_by_column.items():
        if {"unique", "not_null"} <= names:
            keyed.add(target)
    return keyed


def find_gaps(manifest: dict, catalog: dict | None = None) -> list[str]:
    """Every missing description or key test, one line each."""
    project = manifest["metadata"]["project_name"]
    gaps: list[str] = []
    keyed = _key_tested_models(manifest)
    catalog_nodes = (catalog or {}).get("nodes", {})

    for unique_id, node in sorted(manifest["nodes"].items()):
        kind = node["resource_type"]
        if node["package_name"] != project or kind not in {
            "model",
            "seed",
            "snapshot",
        }:
            continue
        where = f"{kind} {node['name']} ({node['original_file_path']})"
        if not _described(node):
            gaps.append(f"{where}: no description")
        for column_name, column in node["columns"].items():
            if not _described(column):
                gaps.append(f"{where}: column {column_name} has no description")
        documented = {name.lower() for name in node["columns"]}
        for column_name in catalog_nodes.get(unique_id, {}).get("columns", {}):
            if column_name.lower() not in documented:
                gaps.append(f"{where}: column {column_name} is not documented")
        by_construction = (node.get("config", {}).get("meta") or {}).get(
            "key_by_construction"
        )
        if kind == "model" and unique_id not in keyed and not by_construction:
            gaps.append(
                f"{where}: no key test (unique + not_null on a column, "
                "or a key of several columns in column_rules' unique)"
            )

    for source in sorted(manifest["sources"].values(), key=lambda s: s["unique_id"]):
        if source["package_name"] != project:
            continue
        where = f"source {source['source_name']}.{source['name']}"
        if not (source.get("source_description") or "").strip():
            gaps.append(f"source {source['source_name']}: no description")
        if not _described(source):
            gaps.append(f"{where}: no description")
        for column_name, column in source["columns"].items():
            if not _described(column):
                gaps.append(f"{where}: column {column_name} has no description")

    for macro in sorted(manifest["macros"].values(), key=lambda m: m["unique_id"]):
        if macro["package_name"] != project:
            continue
        where = f"macro {macro['name']} ({macro['original_file_path']})"
        if not _described(macro):
            gaps.append(f"{where}: no description")
        documented = {
            argument["name"]: argument for argument in macro.get("arguments", [])
        }
        for name in _signature_arguments(macro["macro_sql"]):
            if name in _TEST_ARGUMENTS and macro["name"].startswith("test_"):
                if name not in documented:
                    continue
            argument = documented.get(name)
            if argument is None:
                gaps.append(f"{where}: argument {name} is not documented")
            elif not _described(argument):
                gaps.append(f"{where}: argument {name} has no description")

    for kind in ("exposures", "semantic_models", "metrics"):
        for item in sorted(manifest.get(kind, {}).values(), key=lambda i: i["name"]):
            if item["package_name"] == project and not _described(item):
                gaps.append(
                    f"{kind[:-1].replace('_', ' ')} {item['name']}: no description"
                )
    return gaps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=Path("target/manifest.json"))
    parser.add_argument(
        "--catalog",
        type=Path,
        default=None,
        help="catalog.json from `dbt docs generate` on a built warehouse: also "
        "flag columns of the built tables that the YAML leaves out",
    )
    args = parser.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    catalog = json.loads(args.catalog.read_text()) if args.catalog else None
    gaps = find_gaps(manifest, catalog)
    for gap in gaps:
        print(gap)
    if gaps:
        print(f"\n{len(gaps)} documentation or key-test gaps", file=sys.stderr)
        return 1
    print(
        "Every model, column, seed, source and macro is described; every model has a key test."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
