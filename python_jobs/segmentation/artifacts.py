"""The fitted model as flat rows: what the registry model writes to the warehouse.

A registry row (:attr:`SegmentationResult.registry_row`) holds nested lists
(transform, centroids, segments, candidates, reference distributions). The
warehouse keeps it as one flat table instead: one row per artifact element,
with an ``artifact`` column naming the element and only scalar columns, so
any engine and any BI tool reads it, and one small SQL model per artifact
(``models/intermediate/int_segmentation_model_*.sql``) selects its rows.

========================  =====================================  ==========================
``artifact``              grain                                  columns filled
========================  =====================================  ==========================
``model``                 model version                          settings, selection, fit
``use``                   model version x time it was put in use ``recorded_at``, reason
``feature``               model x configured feature             transform or drop reason
``quantile_knot``         model x feature x knot                 ``knot_number``, value
``centroid``              model x segment x feature              scaled and original value
``segment``               model x segment                        size, share, radius
``candidate``             model x candidate                      algorithm, metrics
``reference_bin``         model x feature x bin                  bounds, training share
========================  =====================================  ==========================

A model version is registered once. When a later build fits the same
version again (same data and settings, e.g. data sets A, B, A), the build
appends only a ``use`` row: the registered model is reused, and the latest
``use`` says which model is in use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from .registry import CANDIDATE_TYPE

__all__ = [
    "ARTIFACT_SCHEMA",
    "artifact_table",
    "registry_row_from_artifacts",
    "use_table",
]

_MODEL_FIELDS = [
    ("data_fingerprint", pa.string()),
    ("trained_at", pa.timestamp("us", tz="UTC")),
    ("training_cutoff_date", pa.date32()),
    ("training_customers", pa.int64()),
    ("settings_json", pa.string()),
    ("algorithm", pa.string()),
    ("parameters_json", pa.string()),
    ("n_segments", pa.int32()),
    ("has_outlier_segment", pa.bool_()),
    ("selection_rule", pa.string()),
    ("selection_fallback", pa.bool_()),
    ("selection_note", pa.string()),
]
_FEATURE_FIELDS = [
    ("feature", pa.string()),
    ("position", pa.int32()),
    ("drop_reason", pa.string()),
    ("impute_value", pa.float64()),
    ("log_transform", pa.bool_()),
    ("clip_low", pa.float64()),
    ("clip_high", pa.float64()),
    ("center", pa.float64()),
    ("scale", pa.float64()),
]
_KNOT_FIELDS = [("knot_number", pa.int32()), ("knot_value", pa.float64())]
_CENTROID_FIELDS = [
    ("segment_id", pa.int32()),
    ("centroid_scaled", pa.float64()),
    ("centroid_original", pa.float64()),
]
_SEGMENT_FIELDS = [
    ("segment_size", pa.int64()),
    ("segment_share", pa.float64()),
    ("radius", pa.float64()),
    ("jaccard_stability", pa.float64()),
    ("is_unstable", pa.bool_()),
]
# a candidate's own fields; its algorithm and parameters share the model's columns
_CANDIDATE_FIELDS = [
    (field.name, field.type)
    for field in CANDIDATE_TYPE
    if field.name not in ("algorithm", "parameters_json")
]
_BIN_FIELDS = [
    ("bin_number", pa.int32()),
    ("bin_lower", pa.float64()),
    ("bin_upper", pa.float64()),
    ("reference_share", pa.float64()),
]

#: Schema of the registry table (segmentation_model_artifacts): scalars only.
ARTIFACT_SCHEMA = pa.schema(
    [
        ("model_version", pa.string()),
        ("artifact", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("training_reason", pa.string()),
        *_MODEL_FIELDS,
        *_FEATURE_FIELDS,
        *_KNOT_FIELDS,
        *_CENTROID_FIELDS,
        *_SEGMENT_FIELDS,
        *_CANDIDATE_FIELDS,
        *_BIN_FIELDS,
    ]
)


def _pick(record: Mapping[str, Any], fields: list[tuple[str, Any]]) -> dict[str, Any]:
    return {name: record.get(name) for name, _ in fields}


def _feature_rows(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for record in row["transform"]:
        rows.append({"artifact": "feature", **_pick(record, _FEATURE_FIELDS)})
        for number, value in enumerate(record.get("quantile_knots") or [], start=1):
            rows.append(
                {
                    "artifact": "quantile_knot",
                    "feature": record["feature"],
                    "knot_number": number,
                    "knot_value": value,
                }
            )
    for drop in row["features_dropped"]:
        rows.append(
            {
                "artifact": "feature",
                "feature": drop["feature"],
                "drop_reason": drop["reason"],
            }
        )
    return rows


def _model_rows(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = [{"artifact": "model", **_pick(row, _MODEL_FIELDS)}]
    rows += _feature_rows(row)
    rows += [
        {"artifact": "centroid", "feature": c["feature"], **_pick(c, _CENTROID_FIELDS)}
        for c in row["centroids"]
    ]
    rows += [
        {
            "artifact": "segment",
            "segment_id": s["segment_id"],
            "segment_size": s["size"],
            "segment_share": s["share"],
            **_pick(s, _SEGMENT_FIELDS[2:]),
        }
        for s in row["segments"]
    ]
    rows += [
        {
            "artifact": "candidate",
            "algorithm": c["algorithm"],
            "parameters_json": c["parameters_json"],
            **_pick(c, _CANDIDATE_FIELDS),
        }
        for c in row["candidates"]
    ]
    for reference in row["reference_distributions"]:
        edges, shares = reference["bin_edges"], reference["shares"]
        rows += [
            {
                "artifact": "reference_bin",
                "feature": reference["feature"],
                "bin_number": i + 1,
                "bin_lower": edges[i],
                "bin_upper": edges[i + 1],
                "reference_share": share,
            }
            for i, share in enumerate(shares)
        ]
    return rows


def use_table(model_version: str, used_at: dt.datetime, reason: str) -> pa.Table:
    """The one ``use`` row saying ``model_version`` is in use from ``used_at``."""
    return pa.Table.from_pylist(
        [
            {
                "model_version": model_version,
                "artifact": "use",
                "recorded_at": used_at,
                "training_reason": reason,
            }
        ],
        schema=ARTIFACT_SCHEMA,
    )


def artifact_table(row: Mapping[str, Any], reason: str) -> pa.Table:
    """A new model's flat rows: its artifacts and its first ``use``.

    Every row is recorded at the model's ``trained_at``.
    """
    version, recorded = row["model_version"], row["trained_at"]
    rows = [
        {"model_version": version, "recorded_at": recorded, **r}
        for r in _model_rows(row)
    ]
    table = pa.Table.from_pylist(rows, schema=ARTIFACT_SCHEMA)
    return pa.concat_tables([table, use_table(version, recorded, reason)])


def _nested(rows: list[dict[str, Any]], artifact: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["artifact"] == artifact]


def registry_row_from_artifacts(
    table: pa.Table, model_version: str
) -> dict[str, Any] | None:
    """The registry row (nested, as the fit builds it) of one stored version.

    The inverse of :func:`artifact_table` for what the Python side reads
    back: the previous model's centroids (to keep segment ids) and its
    transform and reference bins (for the retraining decision).
    """
    rows = [r for r in table.to_pylist() if r["model_version"] == model_version]
    model = _nested(rows, "model")
    if not model:
        return None
    row = {"model_version": model_version, **_pick(model[0], _MODEL_FIELDS)}
    knots: dict[str, list[tuple[int, float]]] = {}
    for knot in _nested(rows, "quantile_knot"):
        knots.setdefault(knot["feature"], []).append(
            (knot["knot_number"], knot["knot_value"])
        )
    features = sorted(
        (f for f in _nested(rows, "feature") if f["drop_reason"] is None),
        key=lambda f: f["position"],
    )
    row["transform"] = [
        {
            **_pick(f, _FEATURE_FIELDS),
            "quantile_knots": [v for _, v in sorted(knots[f["feature"]])]
            if f["feature"] in knots
            else None,
        }
        for f in features
    ]
    row["features_used"] = [f["feature"] for f in features]
    row["centroids"] = [
        {"feature": c["feature"], **_pick(c, _CENTROID_FIELDS)}
        for c in _nested(rows, "centroid")
    ]
    row["segments"] = [
        {
            "segment_id": s["segment_id"],
            "size": s["segment_size"],
            "share": s["segment_share"],
            **_pick(s, _SEGMENT_FIELDS[2:]),
        }
        for s in _nested(rows, "segment")
    ]
    bins: dict[str, list[dict[str, Any]]] = {}
    for b in sorted(_nested(rows, "reference_bin"), key=lambda b: b["bin_number"]):
        bins.setdefault(b["feature"], []).append(b)
    row["reference_distributions"] = [
        {
            "feature": feature,
            "bin_edges": [b["bin_lower"] for b in group] + [group[-1]["bin_upper"]],
            "shares": [b["reference_share"] for b in group],
        }
        for feature, group in bins.items()
    ]
    return row
