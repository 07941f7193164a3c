"""The report's figures about customers over time and RFM cells.

RFM grid, cohort retention and segment revenue by month; see
:data:`report.figures.FIGURES`.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .style import SegmentStyle, thousands
from .warehouse import ReportData


def rfm_grid(data: ReportData, style: SegmentStyle) -> Figure:
    """Customers and net revenue per recency x frequency score cell."""
    grid = data.rfm_grid
    figure, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    panels = (
        ("customer_count", "Customers per R x F cell", "customers", "Blues", "{:,.0f}"),
        (
            "revenue",
            "Net revenue per R x F cell",
            "net revenue, currency units",
            "Greens",
            None,
        ),
    )
    for ax, (column, title, unit, cmap, fmt) in zip(axes, panels, strict=True):
        table = grid.pivot(
            index="recency_score", columns="frequency_score", values=column
        )
        table = table.reindex(index=range(5, 0, -1), columns=range(1, 6))
        annotations = table.map(
            lambda v, f=fmt: "" if pd.isna(v) else (f.format(v) if f else thousands(v))
        )
        sns.heatmap(
            table,
            ax=ax,
            cmap=cmap,
            annot=annotations,
            fmt="",
            linewidths=0.5,
            annot_kws={"fontsize": 8},
            cbar_kws={"label": unit, "format": FuncFormatter(thousands)},
        )
        ax.grid(False)
        ax.set_title(title)
        ax.set_xlabel("frequency score (5 = most orders)")
        ax.set_ylabel("recency score (5 = most recent)")
        ax.tick_params(axis="y", labelrotation=0)
    figure.suptitle("RFM grid: recency score x frequency score", fontweight="bold")
    return figure


def cohort_retention(data: ReportData, style: SegmentStyle) -> Figure:
    """Retention of each monthly first-purchase cohort, as a heatmap."""
    cohorts = data.cohort_retention.copy()
    cohort_dates = pd.to_datetime(cohorts["cohort_month"])
    cohorts["cohort"] = cohort_dates.dt.strftime("%Y-%m")
    cohorts["month_number"] = cohort_dates.dt.year * 12 + cohort_dates.dt.month
    last_month = int((cohorts["month_number"] + cohorts["months_since_first"]).max())
    table = cohorts.pivot(
        index="cohort", columns="months_since_first", values="retention"
    )
    sizes = cohorts.groupby("cohort")["cohort_customer_count"].first()
    months = int(table.columns.max()) if len(table.columns) else 0
    table = table.reindex(columns=range(months + 1))
    # months a cohort has lived through with nobody back are 0; later ones stay blank
    lived = last_month - cohorts.groupby("cohort")["month_number"].first()
    for cohort in table.index:
        table.loc[cohort, : int(lived[cohort])] = table.loc[
            cohort, : int(lived[cohort])
        ].fillna(0)
    table.index = [f"{cohort} (n={sizes[cohort]:,})" for cohort in table.index]
    later = table.iloc[:, 1:].to_numpy()
    vmax = float(np.nanquantile(later, 0.98)) if np.isfinite(later).any() else 1.0
    annotate = len(table) <= 24 and months <= 24
    figure, ax = plt.subplots(
        figsize=(max(7, 0.62 * (months + 1) + 3.5), 0.38 * len(table) + 2)
    )
    sns.heatmap(
        table * 100,
        ax=ax,
        cmap="YlGnBu",
        vmin=0,
        vmax=max(vmax * 100, 1),
        annot=annotate,
        fmt=".0f",
        linewidths=0.4,
        annot_kws={"fontsize": 7},
        cbar_kws={"label": "customers buying again, % of cohort"},
    )
    ax.grid(False)
    ax.set_xlabel("months since first purchase")
    ax.set_ylabel("cohort: month of first purchase (customers)")
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_title(
        "Monthly cohort retention, % of cohort with a purchase (month 0 = 100%)"
    )
    return figure


def segment_revenue_by_month(data: ReportData, style: SegmentStyle) -> Figure:
    """Monthly net revenue of each segment's customers."""
    revenue = data.segment_revenue_by_month.copy()
    revenue["revenue_month"] = pd.to_datetime(revenue["revenue_month"])
    figure, ax = plt.subplots(figsize=(11, 5.5))
    for segment_id in style.ids:
        rows = revenue[revenue["segment_id"] == segment_id]
        if rows.empty:
            continue
        ax.plot(
            rows["revenue_month"],
            rows["net_revenue"],
            marker="o",
            markersize=4,
            color=style.colours[segment_id],
            label=style.labels[segment_id],
            linewidth=1.8,
        )
    ax.yaxis.set_major_formatter(FuncFormatter(thousands))
    if revenue["revenue_month"].nunique() <= 24:
        ax.xaxis.set_major_locator(matplotlib.dates.MonthLocator())
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%Y-%m"))
    ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel("month")
    ax.set_ylabel("net revenue, currency units")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, title="Segment")
    ax.set_title("Monthly net revenue by segment (customers in their current segment)")
    return figure


#: Figure id -> (function, caption). The order is the report's order.
