"""What the report shows: the results of analyses/ and the published tables.

The report keeps no SQL of its own. Its figures come from two places:

- the analyses it names in :data:`ANALYSES` (files under ``analyses/``),
  compiled by dbt so that every ``ref()`` resolves, and run on the
  warehouse (``DUCKDB_PATH``) opened read-only, as `make eda` runs them;
- the tables BI reads, from the publication (``BI_DUCKDB_PATH``, default
  ``published/segments.duckdb``) opened read-only: the segment profiles
  and personas, and the customers' segment, recency and monetary value.

Both come from the same build: the report checks that the publication's
model version is the warehouse's model in use. Every analysis aggregates in
the warehouse; only the customer map reads one row per customer, and draws
at most ``sample_size`` of them. Transaction lines never leave the warehouse.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from run_analyses import (
    AnalysisError,
    compile_analyses,
    open_read_only,
    resolve_warehouse,
    run_compiled,
)

DEFAULT_PUBLICATION = "published/segments.duckdb"

#: The analyses the report runs, each file's name (under analyses/).
ANALYSES = (
    "report_data_period",
    "report_model",
    "report_model_features",
    "report_model_candidates",
    "report_segment_stability",
    "report_segment_feature_distributions",
    "rfm_score_grid",
    "cohort_retention",
    "segment_revenue_by_month",
)

#: The published tables the report reads, and the columns it reads of each.
PUBLISHED_COLUMNS = {
    "publication_info": ("table_name", "publication_version", "model_version"),
    "segment_profiles": None,  # every column: sizes, personas, medians, z-scores
    "customer_segments": ("customer_id", "segment_id"),
    "customer_features": ("customer_id", "recency_days", "monetary"),
}

#: Units of each customer feature, for axis labels.
FEATURE_UNITS = {
    "recency_days": "days since last order",
    "frequency": "orders",
    "monetary": "net revenue, currency units",
    "tenure_days": "days since first order",
    "avg_order_value": "currency units per order",
    "items_per_order": "items per order",
    "distinct_products": "products",
    "return_rate": "share of gross sales returned",
    "mean_days_between_orders": "days",
    "weekend_order_share": "share of orders",
}


class ReportError(AnalysisError):
    """A failure to report in one paragraph, without a traceback."""


@dataclass
class ReportData:
    """Everything the report draws, as small frames and plain values."""

    model: dict
    features: pd.DataFrame
    selected_candidate: dict
    candidates: pd.DataFrame
    segments: pd.DataFrame
    period: dict
    publication: dict
    feature_stats: pd.DataFrame
    customer_map: pd.DataFrame
    persona_z_scores: pd.DataFrame
    rfm_grid: pd.DataFrame
    cohort_retention: pd.DataFrame
    segment_revenue_by_month: pd.DataFrame


def resolve_publication(path: str | os.PathLike | None = None) -> Path:
    """Return the publication file: ``path``, else ``BI_DUCKDB_PATH``, else default.

    Raises
    ------
    ReportError
        When no publication exists there yet.
    """
    publication = Path(path or os.environ.get("BI_DUCKDB_PATH") or DEFAULT_PUBLICATION)
    if not publication.is_absolute():
        publication = (Path.cwd() / publication).resolve()
    if not publication.is_file():
        raise ReportError(
            f"No BI publication at {publication}: the report draws the segments "
            "from the tables BI reads, which a successful `dbt build` publishes. "
            "Run `make run` (a build with the var publish_for_bi left on), or "
            "point BI_DUCKDB_PATH at the publication."
        )
    return publication


def run_report_analyses(
    warehouse: Path,
    target_path: Path,
    dbt_vars: str | None = None,
    log_path: Path | None = None,
) -> dict[str, pd.DataFrame]:
    """Compile the report's analyses with dbt and run them on the warehouse.

    Returns
    -------
    dict
        Analysis name -> its result.
    """
    compiled = compile_analyses(warehouse, target_path, dbt_vars, log_path, ANALYSES)
    with open_read_only(warehouse) as con:
        return {analysis.name: run_compiled(con, analysis) for analysis in compiled}


def read_publication(publication: Path) -> dict[str, pd.DataFrame]:
    """The published tables of :data:`PUBLISHED_COLUMNS`, whole or by column."""
    frames = {}
    with open_read_only(publication) as con:
        for table, columns in PUBLISHED_COLUMNS.items():
            try:
                relation = con.table(table)
                frames[table] = (
                    relation.select(*columns) if columns else relation
                ).df()
            except duckdb.CatalogException as error:
                raise ReportError(
                    f"The publication {publication} lacks what the report reads "
                    f"({' '.join(str(error).split())}): it was written by another "
                    "version of the project. Run `make run` to publish again."
                ) from None
    return frames


def _nulls_to_none(row: dict) -> dict:
    return {key: (None if pd.isna(value) else value) for key, value in row.items()}


def _one_row(frames: dict[str, pd.DataFrame], name: str, what: str) -> dict:
    frame = frames[name]
    if frame.empty:
        raise ReportError(
            f"The analysis {name} found no rows: {what}. Run `make run` (or "
            "`dbt build`) on data with customers first."
        )
    return _nulls_to_none(frame.iloc[0].to_dict())


def _customer_map(published: dict[str, pd.DataFrame], sample_size: int):
    """Segment, recency and monetary value of at most ``sample_size`` customers.

    The sample is drawn with a fixed seed: the same customers on every run
    of the same publication.
    """
    customers = published["customer_segments"].merge(
        published["customer_features"], on="customer_id", how="inner"
    )
    if len(customers) > sample_size:
        customers = customers.sample(n=sample_size, random_state=0)
    return customers.reset_index(drop=True)


def load_report_data(
    analyses: dict[str, pd.DataFrame],
    published: dict[str, pd.DataFrame],
    sample_size: int,
) -> ReportData:
    """Put the analyses' results and the published tables together.

    Raises
    ------
    ReportError
        When no model was fitted, or the publication is not the warehouse's
        model in use (a build that failed after publishing, or the two files
        from different builds).
    """
    model = _one_row(analyses, "report_model", "no segmentation model was fitted")
    model["settings"] = json.loads(model.pop("settings_json") or "{}")
    info = published["publication_info"]
    published_versions = set(info["model_version"].dropna())
    if published_versions != {model["model_version"]}:
        raise ReportError(
            f"The publication holds model {', '.join(sorted(published_versions)) or 'none'} "
            f"but the warehouse's model in use is {model['model_version']}: the two "
            "files come from different builds. Run `make run` so that both are "
            "written by the same build, or point DUCKDB_PATH and BI_DUCKDB_PATH "
            "at one build's files."
        )
    candidates = analyses["report_model_candidates"]
    selected = candidates[candidates["is_selected"]].to_dict("records")
    profiles = published["segment_profiles"].sort_values("segment_id")
    segments = profiles.merge(
        analyses["report_segment_stability"], on="segment_id", how="left"
    )
    segments["is_unstable"] = segments["is_unstable"].fillna(False).astype(bool)
    z_columns = [column for column in profiles.columns if column.endswith("_z")]
    z_scores = profiles[["segment_id", *z_columns]].dropna(axis=1, how="all")
    z_scores = z_scores.dropna(subset=z_scores.columns[1:], how="all")
    return ReportData(
        model=model,
        features=analyses["report_model_features"],
        selected_candidate=_nulls_to_none(selected[0]) if selected else {},
        candidates=candidates,
        segments=segments.reset_index(drop=True),
        period=_one_row(analyses, "report_data_period", "no customers"),
        publication=_nulls_to_none(info.iloc[0].to_dict()),
        feature_stats=analyses["report_segment_feature_distributions"],
        customer_map=_customer_map(published, sample_size),
        persona_z_scores=z_scores,
        rfm_grid=analyses["rfm_score_grid"],
        cohort_retention=analyses["cohort_retention"],
        segment_revenue_by_month=analyses["segment_revenue_by_month"],
    )


__all__ = [
    "ANALYSES",
    "FEATURE_UNITS",
    "PUBLISHED_COLUMNS",
    "ReportData",
    "ReportError",
    "load_report_data",
    "read_publication",
    "resolve_publication",
    "resolve_warehouse",
    "run_report_analyses",
]
