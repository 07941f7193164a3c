"""The fitted model as flat rows: what the registry model writes to the warehouse.

The fit builds the model as flat rows directly
(:func:`~segmentation.registry_row.artifact_rows`): one row per artifact
element, with an ``artifact`` column naming the element and only scalar
columns, so any engine and any BI tool reads it, and one small SQL model per
artifact (``models/intermediate/int_segmentation_model_*.sql``) selects its
rows. The fields of each artifact are listed once, below; Python's nested
view of a model (:func:`nested_row`, the shape of
:data:`~segmentation.registry.REGISTRY_SCHEMA`) is grouped from the rows.

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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

__all__ = [
    "ARTIFACT_SCHEMA",
    "artifact_table",
    "nested_row",
    "registry_row_from_artifacts",
    "use_table",
]

MODEL_FIELDS = [
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
FEATURE_FIELDS = [
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
KNOT_FIELDS = [("knot_number", pa.int32()), ("knot_value", pa.float64())]
CENTROID_FIELDS = [
    ("segment_id", pa.int32()),
    ("centroid_scaled", pa.float64()),
    ("centroid_original", pa.float64()),
]
SEGMENT_FIELDS = [
    ("segment_size", pa.int64()),
    ("segment_share", pa.float64()),
    ("radius", pa.float64()),
    ("jaccard_stability", pa.float64()),
    ("is_unstable", pa.bool_()),
]
#: A candidate's own fields; its algorithm and parameters share the model's columns.
CANDIDATE_FIELDS = [
    ("candidate_id", pa.int32()),
    ("k", pa.int32()),
    ("silhouette", pa.float64()),
    ("davies_bouldin", pa.float64()),
    ("calinski_harabasz", pa.float64()),
    ("inertia", pa.float64()),
    ("smallest_segment_share", pa.float64()),
    ("noise_share", pa.float64()),
    ("stability_ari", pa.float64()),
    ("fit_seconds", pa.float64()),
    ("is_eligible", pa.bool_()),
    ("rejection_reason", pa.string()),
    ("is_selected", pa.bool_()),
    ("selection_reason", pa.string()),
    ("feature_check_json", pa.string()),
]
BIN_FIELDS = [
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
        *MODEL_FIELDS,
        *FEATURE_FIELDS,
        *KNOT_FIELDS,
        *CENTROID_FIELDS,
        *SEGMENT_FIELDS,
        *CANDIDATE_FIELDS,
        *BIN_FIELDS,
    ]
)
#: The fields of a used feature's transform in the nested view.
TRANSFORM_FIELDS = [f for f in FEATURE_FIELDS if f[0] != "drop_reason"]


def _pick(record: Mapping[str, Any], fields: list[tuple[str, Any]]) -> dict[str, Any]:
    return {name: record.get(name) for name, _ in fields}


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


def artifact_table(rows: Sequence[Mapping[str, Any]], reason: str) -> pa.Table:
    """A new model's flat rows and its first ``use``, recorded when it was trained.

    ``rows`` are the fit's artifact rows
    (:attr:`SegmentationResult.artifact_rows`), the ``model`` row first.
    """
    table = pa.Table.from_pylist(list(rows), schema=ARTIFACT_SCHEMA)
    model = rows[0]
    return pa.concat_tables(
        [table, use_table(model["model_version"], model["recorded_at"], reason)]
    )


def _of(rows: Iterable[Mapping[str, Any]], artifact: str) -> list[Mapping[str, Any]]:
    return [r for r in rows if r["artifact"] == artifact]


def _transform(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The used features' transforms, in column order, with their knots."""
    knots: dict[str, list[tuple[int, float]]] = {}
    for knot in _of(rows, "quantile_knot"):
        knots.setdefault(knot["feature"], []).append(
            (knot["knot_number"], knot["knot_value"])
        )
    used = sorted(
        (f for f in _of(rows, "feature") if f.get("drop_reason") is None),
        key=lambda f: f["position"],
    )
    return [
        {
            **_pick(f, TRANSFORM_FIELDS),
            "quantile_knots": [v for _, v in sorted(knots[f["feature"]])]
            if f["feature"] in knots
            else None,
        }
        for f in used
    ]


def _references(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    bins: dict[str, list[Mapping[str, Any]]] = {}
    for b in sorted(_of(rows, "reference_bin"), key=lambda b: b["bin_number"]):
        bins.setdefault(b["feature"], []).append(b)
    return [
        {
            "feature": feature,
            "bin_edges": [b["bin_lower"] for b in group] + [group[-1]["bin_upper"]],
            "shares": [b["reference_share"] for b in group],
        }
        for feature, group in bins.items()
    ]


def nested_row(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """One model's artifact rows grouped into Python's nested registry row.

    The shape of :data:`~segmentation.registry.REGISTRY_SCHEMA`: what
    :func:`~segmentation.scoring.score`, the segment-id matching of the next
    fit and the retraining decision read. None without a ``model`` row.
    """
    model = _of(rows, "model")
    if not model:
        return None
    transform = _transform(list(rows))
    return {
        "model_version": model[0]["model_version"],
        **_pick(model[0], MODEL_FIELDS),
        "features_used": [t["feature"] for t in transform],
        "features_dropped": [
            {"feature": f["feature"], "reason": f["drop_reason"]}
            for f in _of(rows, "feature")
            if f.get("drop_reason") is not None
        ],
        "transform": transform,
        "centroids": [
            {"feature": c["feature"], **_pick(c, CENTROID_FIELDS)}
            for c in _of(rows, "centroid")
        ],
        "segments": [
            {
                "segment_id": s["segment_id"],
                "size": s["segment_size"],
                "share": s["segment_share"],
                **_pick(s, SEGMENT_FIELDS[2:]),
            }
            for s in _of(rows, "segment")
        ],
        "candidates": [
            {
                "algorithm": c["algorithm"],
                "parameters_json": c["parameters_json"],
                **_pick(c, CANDIDATE_FIELDS),
            }
            for c in _of(rows, "candidate")
        ],
        "reference_distributions": _references(list(rows)),
    }


def registry_row_from_artifacts(
    table: pa.Table, model_version: str
) -> dict[str, Any] | None:
    """The nested registry row (see :func:`nested_row`) of one stored version.

    What the Python side reads back of a registered model: its centroids (to
    keep segment ids) and its transform and reference bins. None when the
    table holds no ``model`` row of that version.
    """
    rows = [r for r in table.to_pylist() if r["model_version"] == model_version]
    return nested_row(rows)
