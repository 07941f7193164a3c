"""Read what the report shows from the warehouse: small, aggregated frames.

Every query aggregates in DuckDB and returns at most a few thousand rows,
except the customer sample for the PCA plot, which is capped by
``sample_size``. Transaction lines never leave the warehouse.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

DEFAULT_WAREHOUSE = "warehouse/segmentation.duckdb"

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

_LATEST_MODEL = """
    select *
    from segmentation_models
    qualify row_number() over (order by trained_at desc, model_version) = 1
"""


class ReportError(Exception):
    """A failure to report in one paragraph, without a traceback."""


@dataclass
class ReportData:
    """Everything the report draws, as small frames and plain values."""

    model: dict
    selected_candidate: dict
    candidates: pd.DataFrame
    segments: pd.DataFrame
    period: dict
    feature_stats: pd.DataFrame
    feature_scales: pd.DataFrame
    customer_sample: pd.DataFrame
    transform: pd.DataFrame
    centroids: pd.DataFrame
    persona_z_scores: pd.DataFrame
    rfm_grid: pd.DataFrame
    cohort_retention: pd.DataFrame
    segment_revenue_by_month: pd.DataFrame


def resolve_warehouse(path: str | os.PathLike | None = None) -> Path:
    """Return the warehouse file (argument, else ``DUCKDB_PATH``, else default).

    Raises
    ------
    ReportError
        When the file does not exist yet.
    """
    warehouse = Path(path or os.environ.get("DUCKDB_PATH") or DEFAULT_WAREHOUSE)
    warehouse = warehouse if warehouse.is_absolute() else Path.cwd() / warehouse
    if not warehouse.is_file():
        raise ReportError(
            f"No warehouse at {warehouse}: the report is drawn from the tables "
            "that `dbt build` makes, so there is nothing to report on yet. Run "
            "`make run` first, or point DUCKDB_PATH at a built warehouse file."
        )
    return warehouse


def open_warehouse(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only with the profile's thread and memory caps."""
    config = {
        "threads": int(os.environ.get("DUCKDB_THREADS", "2")),
        "memory_limit": os.environ.get("DUCKDB_MEMORY_LIMIT", "4GB"),
    }
    try:
        return duckdb.connect(str(warehouse), read_only=True, config=config)
    except duckdb.Error as error:
        raise ReportError(
            f"Could not open the warehouse {warehouse} read-only: "
            f"{str(error).splitlines()[0]} If a dbt build is writing to it, "
            "wait for the build to finish and run again."
        ) from None


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> pd.DataFrame:
    try:
        return con.execute(sql, params or []).df()
    except duckdb.CatalogException as error:
        raise ReportError(
            "The warehouse lacks a table the report reads "
            f"({' '.join(str(error).split())}). Build the whole project first "
            "(`make run`, or `dbt build` without --select)."
        ) from None


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> list[dict]:
    """Rows as plain Python dicts (lists stay lists, nulls are None)."""
    try:
        cursor = con.execute(sql, params or [])
    except duckdb.CatalogException as error:
        raise ReportError(
            "The warehouse lacks a table the report reads "
            f"({' '.join(str(error).split())}). Build the whole project first "
            "(`make run`, or `dbt build` without --select)."
        ) from None
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_model(con: duckdb.DuckDBPyConnection) -> tuple[dict, dict, pd.DataFrame]:
    """The latest model, its selected candidate and every candidate."""
    model_rows = _rows(
        con,
        f"""
        select
            model_version, trained_at, training_cutoff_date, training_customers,
            settings_json, algorithm, parameters_json, n_segments,
            has_outlier_segment, selection_rule, selection_fallback,
            selection_note, features_used, features_dropped
        from ({_LATEST_MODEL})
        """,
    )
    if not model_rows:
        raise ReportError(
            "segmentation_models is empty: no model has been fitted. Run "
            "`make run` (or `dbt build`) on data with customers first."
        )
    model = model_rows[0]
    model["settings"] = json.loads(model.pop("settings_json") or "{}")
    model["features_used"] = list(model["features_used"] or [])
    model["features_dropped"] = [dict(item) for item in model["features_dropped"] or []]
    candidates = _frame(
        con,
        """
        select
            candidate_id, algorithm, parameters_json, k, silhouette, davies_bouldin,
            calinski_harabasz, inertia, smallest_segment_share, noise_share,
            stability_ari, is_eligible, is_selected, rejection_reason
        from segmentation_model_evaluation
        where model_version = ?
        order by algorithm, k, candidate_id
        """,
        [model["model_version"]],
    )
    selected = [
        {key: (None if pd.isna(value) else value) for key, value in row.items()}
        for row in candidates[candidates["is_selected"]].to_dict("records")
    ]
    return model, (selected[0] if selected else {}), candidates


def read_segments(con: duckdb.DuckDBPyConnection, model_version: str) -> pd.DataFrame:
    """One row per segment of the model: persona, size, revenue, stability."""
    return _frame(
        con,
        f"""
        with stability as (
            select unnest(segments, recursive := true)
            from ({_LATEST_MODEL})
        )
        select
            personas.segment_id,
            personas.segment_name,
            personas.persona_key,
            personas.persona_description,
            personas.suggested_action,
            coalesce(profiles.customer_count, 0) as customer_count,
            coalesce(profiles.customer_share, 0) as customer_share,
            coalesce(profiles.revenue, 0) as revenue,
            coalesce(profiles.revenue_share, 0) as revenue_share,
            stability.jaccard_stability,
            coalesce(stability.is_unstable, false) as is_unstable
        from segment_personas as personas
        left join segment_profiles as profiles
            on personas.segment_id = profiles.segment_id
        left join stability
            on personas.segment_id = stability.segment_id
        where personas.model_version = ?
        order by personas.segment_id
        """,
        [model_version],
    )


def read_period(con: duckdb.DuckDBPyConnection) -> dict:
    """The data period and the line and customer counts behind it."""
    period = _rows(
        con,
        """
        select
            min(first_purchase_date) as first_purchase_date,
            max(last_purchase_date) as last_purchase_date,
            max(as_of_date) as as_of_date,
            count(*) as customer_count,
            sum(monetary) as net_revenue
        from customer_features
        """,
    )[0]
    loads = _rows(
        con,
        """
        select
            count(*) as file_count,
            coalesce(sum(lines_read), 0) as lines_read,
            coalesce(sum(lines_staged), 0) as lines_staged,
            coalesce(sum(lines_rejected), 0) as lines_rejected
        from source_file_loads
        """,
    )[0]
    return {**period, **loads}


def customer_feature_names(con: duckdb.DuckDBPyConnection, model: dict) -> list[str]:
    """The features the model considered that customer_features holds."""
    columns = set(_frame(con, "describe customer_features")["column_name"])
    wanted = model["settings"].get("features") or model["features_used"]
    return [feature for feature in wanted if feature in columns]


def read_feature_stats(
    con: duckdb.DuckDBPyConnection, features: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Box-plot statistics of each feature per segment, and each feature's shape.

    Returns
    -------
    stats : DataFrame
        segment_id, feature, customer_count, p05, p25, p50, p75, p95, mean.
    scales : DataFrame
        feature, min_value, max_value, median_value, skewness over all customers.
    """
    casts = ", ".join(f"cast(features.{name} as double) as {name}" for name in features)
    long_values = f"""
        unpivot (
            select segments.segment_id, {casts}
            from customer_segments as segments
            inner join customer_features as features
                on segments.customer_id = features.customer_id
        )
        on {", ".join(features)}
        into name feature value feature_value
    """
    stats = _frame(
        con,
        f"""
        select
            segment_id,
            feature,
            count(feature_value) as customer_count,
            quantile_cont(feature_value, 0.05) as p05,
            quantile_cont(feature_value, 0.25) as p25,
            quantile_cont(feature_value, 0.5) as p50,
            quantile_cont(feature_value, 0.75) as p75,
            quantile_cont(feature_value, 0.95) as p95,
            avg(feature_value) as mean
        from ({long_values})
        group by segment_id, feature
        order by feature, segment_id
        """,
    )
    scales = _frame(
        con,
        f"""
        select
            feature,
            min(feature_value) as min_value,
            max(feature_value) as max_value,
            median(feature_value) as median_value,
            coalesce(skewness(feature_value), 0) as skewness
        from ({long_values})
        group by feature
        """,
    )
    return stats, scales


def read_model_space(
    con: duckdb.DuckDBPyConnection, sample_size: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The transform, the centroids and a sample of customers' raw features.

    The sample is the ``sample_size`` customers with the smallest hash of
    their id: the same customers on every run, spread over all segments.
    """
    transform = _frame(
        con,
        """
        select distinct
            feature, feature_position, impute_value, log_transform, clip_low,
            clip_high, center, scale, quantile_knots
        from segment_centroids
        order by feature_position
        """,
    )
    centroids = _frame(
        con,
        """
        select segment_id, feature, centroid_scaled
        from segment_centroids
        order by segment_id, feature_position
        """,
    )
    features = list(transform["feature"])
    columns = ", ".join(
        f"cast(features.{name} as double) as {name}" for name in features
    )
    sample = _frame(
        con,
        f"""
        select
            segments.customer_id,
            segments.segment_id,
            segments.distance_to_centroid,
            {columns}
        from customer_segments as segments
        inner join customer_features as features
            on segments.customer_id = features.customer_id
        order by hash(segments.customer_id), segments.customer_id
        limit ?
        """,
        [int(sample_size)],
    )
    return transform, centroids, sample


def read_persona_z_scores(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each segment's centroid z-scores, one column per persona feature."""
    frame = _frame(con, "select * from segment_personas order by segment_id")
    z_columns = [column for column in frame.columns if column.endswith("_z")]
    frame = frame.dropna(subset=z_columns, how="all")
    return frame[["segment_id", *z_columns]]


def read_rfm_grid(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Customers and net revenue per recency score x frequency score cell."""
    return _frame(
        con,
        """
        select
            recency_score,
            frequency_score,
            count(*) as customer_count,
            sum(monetary) as revenue,
            any_value(rfm_segment) as rfm_segment
        from customer_features
        group by recency_score, frequency_score
        order by recency_score, frequency_score
        """,
    )


def read_cohort_retention(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Share of each monthly first-purchase cohort buying again, by month."""
    return _frame(
        con,
        """
        with customer_months as (
            select distinct
                customer_id,
                cast(date_trunc('month', invoice_date) as date) as activity_month
            from int_invoices_aggregated_from_lines
            where is_sale and customer_id is not null
        ),

        cohorts as (
            select customer_id, min(activity_month) as cohort_month
            from customer_months
            group by customer_id
        )

        select
            cohorts.cohort_month,
            date_diff('month', cohorts.cohort_month, customer_months.activity_month)
                as months_since_first,
            count(*) as active_customer_count,
            count(*) / any_value(cohort_sizes.cohort_customer_count) as retention,
            any_value(cohort_sizes.cohort_customer_count) as cohort_customer_count
        from customer_months
        inner join cohorts
            on customer_months.customer_id = cohorts.customer_id
        inner join (
            select cohort_month, count(*) as cohort_customer_count
            from cohorts
            group by cohort_month
        ) as cohort_sizes
            on cohorts.cohort_month = cohort_sizes.cohort_month
        group by cohorts.cohort_month, months_since_first
        order by cohorts.cohort_month, months_since_first
        """,
    )


def read_segment_revenue_by_month(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Net revenue per month of each segment's (current) customers."""
    return _frame(
        con,
        """
        select
            cast(date_trunc('month', invoices.invoice_date) as date) as revenue_month,
            segments.segment_id,
            sum(invoices.product_sales_amount) - sum(invoices.product_returns_amount)
                as net_revenue
        from int_invoices_aggregated_from_lines as invoices
        inner join customer_segments as segments
            on invoices.customer_id = segments.customer_id
        group by revenue_month, segments.segment_id
        order by revenue_month, segments.segment_id
        """,
    )


def load_report_data(con: duckdb.DuckDBPyConnection, sample_size: int) -> ReportData:
    """Run every query of the report."""
    model, selected, candidates = read_model(con)
    features = customer_feature_names(con, model)
    feature_stats, feature_scales = read_feature_stats(con, features)
    transform, centroids, sample = read_model_space(con, sample_size)
    return ReportData(
        model=model,
        selected_candidate=selected,
        candidates=candidates,
        segments=read_segments(con, model["model_version"]),
        period=read_period(con),
        feature_stats=feature_stats,
        feature_scales=feature_scales,
        customer_sample=sample,
        transform=transform,
        centroids=centroids,
        persona_z_scores=read_persona_z_scores(con),
        rfm_grid=read_rfm_grid(con),
        cohort_retention=read_cohort_retention(con),
        segment_revenue_by_month=read_segment_revenue_by_month(con),
    )
