"""The measured ``dbt build``: a fresh warehouse, per-node and per-layer times.

The build runs as the user runs it (``dbt build`` with the project's
``profiles.yml``), in a subprocess whose whole process tree is measured
(:mod:`bench.monitor`). Everything it writes - the warehouse, the BI
publication, ``target/`` and ``logs/`` - goes to a fresh work folder, so
every run starts from nothing: no registered model (the clustering is
fitted), no previous publication. The project is parsed once first
(``dbt parse``, timed apart), as it is in any checkout that has run dbt
before, so the measured build is dbt's partial parse plus the build; the
first parse is reported beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .monitor import Measured, run_measured

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")

#: Layers of the project, by the node's file path (first match wins).
LAYERS = (
    ("staging", "models/staging/"),
    ("intermediate", "models/intermediate/"),
    ("customer_features", "models/marts/customers/customer_features."),
    (
        "segmentation_model_artifacts (Python)",
        "models/marts/segmentation/segmentation_model_artifacts.",
    ),
    ("marts: customers", "models/marts/customers/"),
    ("marts: segmentation", "models/marts/segmentation/"),
    ("marts: data quality", "models/marts/data_quality/"),
    ("marts: monitoring", "models/marts/monitoring/"),
    ("marts: other", "models/marts/"),
)
#: The layers the issue's "staging and feature layers" target sums: every
#: node of models/staging, models/intermediate and customer_features. The
#: intermediate layer also holds models built after the clustering
#: (int_customers_scored, the int_segmentation_model_* tables): they are
#: counted too, which makes the ratio larger, not smaller.
FEATURE_LAYERS = ("staging", "intermediate", "customer_features")


@dataclass
class NodeTiming:
    unique_id: str
    resource_type: str
    layer: str
    status: str
    seconds: float
    #: when dbt started and finished the node (seconds since the epoch)
    started_at: float | None = None
    completed_at: float | None = None


@dataclass
class BuildResult:
    measured: Measured
    warehouse: Path
    elapsed_seconds: float | None = None  # dbt's own elapsed_time
    parse_seconds: float | None = None  # the untimed first `dbt parse`
    nodes: list[NodeTiming] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.measured.returncode == 0

    def layer_seconds(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for node in self.nodes:
            totals[node.layer] += node.seconds
        return dict(totals)

    def feature_layer_seconds(self) -> float:
        layers = self.layer_seconds()
        return sum(layers.get(name, 0.0) for name in FEATURE_LAYERS)

    def slowest(self, count: int = 8) -> list[NodeTiming]:
        return sorted(self.nodes, key=lambda n: n.seconds, reverse=True)[:count]

    def nodes_at_peak(self) -> list[str]:
        """The nodes dbt was running when the memory peak was sampled."""
        at = self.measured.peak_at
        if at is None:
            return []
        return [
            node.unique_id
            for node in self.nodes
            if node.started_at is not None
            and node.completed_at is not None
            and node.started_at <= at <= node.completed_at
        ]


def _layer(resource_type: str, path: str) -> str:
    if resource_type in ("test", "unit_test"):
        return "tests"
    if resource_type in ("seed", "snapshot", "operation"):
        return {"operation": "hooks"}.get(resource_type, resource_type + "s")
    for name, prefix in LAYERS:
        if path.startswith(prefix):
            return name
    return "other"


def _epoch(timestamp: str | None) -> float | None:
    """Seconds since the epoch of a run_results time (ISO, UTC, 'Z')."""
    if not timestamp:
        return None
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def node_timings(target: Path) -> tuple[float | None, list[NodeTiming]]:
    """Per-node times from ``run_results.json``, with layers from ``manifest.json``."""
    results = json.loads((target / "run_results.json").read_text())
    manifest_path = target / "manifest.json"
    paths: dict[str, tuple[str, str]] = {}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        for section in ("nodes", "unit_tests"):
            for uid, node in manifest.get(section, {}).items():
                paths[uid] = (
                    node.get("resource_type", ""),
                    node.get("original_file_path", ""),
                )
    nodes = []
    for result in results["results"]:
        uid = result["unique_id"]
        resource_type, path = paths.get(uid, (uid.split(".", 1)[0], ""))
        # compile and execute phases, times in UTC
        phases = [
            (_epoch(phase.get("started_at")), _epoch(phase.get("completed_at")))
            for phase in result.get("timing") or []
        ]
        starts = [start for start, _ in phases if start is not None]
        ends = [end for _, end in phases if end is not None]
        nodes.append(
            NodeTiming(
                unique_id=uid,
                resource_type=resource_type,
                layer=_layer(resource_type, path),
                status=str(result.get("status")),
                seconds=float(result.get("execution_time") or 0.0),
                started_at=min(starts) if starts else None,
                completed_at=max(ends) if ends else None,
            )
        )
    return results.get("elapsed_time"), nodes


def _facts(warehouse: Path) -> dict:
    """Lines, customers and the chosen model, read back from the warehouse."""
    import duckdb

    facts: dict = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        facts["lines"], facts["lines_accounted"] = con.sql(
            "select sum(lines_read), sum(lines_staged + lines_rejected) "
            "from source_file_loads"
        ).fetchone()
        # how many files each reader read (the native reader's fast path)
        facts["files_by_reader"] = dict(
            con.sql(
                "select coalesce(read_by, 'no line'), count(*) "
                "from source_file_loads group by 1 order by 1"
            ).fetchall()
        )
        facts["customers"] = con.sql(
            "select count(*) from customer_features"
        ).fetchone()[0]
        selected = con.sql(
            "select algorithm, k, silhouette, stability_ari "
            "from segmentation_model_evaluation where is_selected"
        ).fetchone()
        if selected:
            facts["model"] = {
                "algorithm": selected[0],
                "k": selected[1],
                "silhouette": None if selected[2] is None else round(selected[2], 4),
                "stability_ari": None if selected[3] is None else round(selected[3], 4),
            }
    return facts


def run_build(
    raw_glob: str,
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    project_root: Path = PROJECT_ROOT,
    parse_first: bool = True,
) -> BuildResult:
    """``dbt build`` of the project on ``raw_glob`` into a fresh warehouse."""
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = workdir / "warehouse.duckdb"
    for stale in (warehouse, workdir / "warehouse.duckdb.wal"):
        stale.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(project_root),
        "DUCKDB_PATH": str(warehouse),
        "BI_DUCKDB_PATH": str(workdir / "published" / "segments.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(extra_env or {}),
    }
    options = [
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
        "--vars",
        json.dumps({"raw_transactions": raw_glob}),
    ]
    parse_seconds = None
    if parse_first:
        started = time.perf_counter()
        parsed = subprocess.run(
            [str(DBT), "parse", *options],
            env=env,
            cwd=project_root,
            capture_output=True,
            text=True,
        )
        parse_seconds = time.perf_counter() - started
        (workdir / "dbt_parse.log").write_text(parsed.stdout + parsed.stderr)
    measured = run_measured(
        [str(DBT), "build", *options],
        log_path=workdir / "dbt_build.log",
        env=env,
        cwd=project_root,
        # DuckDB's default temp_directory: <database file>.tmp
        spill_dir=workdir / "warehouse.duckdb.tmp",
    )
    result = BuildResult(
        measured=measured, warehouse=warehouse, parse_seconds=parse_seconds
    )
    if (workdir / "target" / "run_results.json").exists():
        result.elapsed_seconds, result.nodes = node_timings(workdir / "target")
    if result.ok:
        result.facts = _facts(warehouse)
    return result
