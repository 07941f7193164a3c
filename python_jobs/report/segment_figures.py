"""The report's figures about the segments: sizes, features, map, stability, personas.

One function per figure, each returning a Figure (see :data:`report.figures.FIGURES`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from .style import SegmentStyle, thousands
from .warehouse import FEATURE_UNITS, ReportData


def segment_sizes(data: ReportData, style: SegmentStyle) -> Figure:
    """Customers and net revenue share per segment, side by side."""
    segments = data.segments.sort_values("segment_id", ascending=False)
    labels = [style.labels[int(i)] for i in segments["segment_id"]]
    colours = [style.colours[int(i)] for i in segments["segment_id"]]
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(11, 1.2 + 0.5 * len(segments)), sharey=True
    )
    panels = (
        (
            left,
            segments["customer_share"],
            segments["customer_count"],
            "Customers",
            "% of all segmented customers",
        ),
        (
            right,
            segments["revenue_share"],
            segments["revenue"],
            "Net revenue",
            "% of the segmented customers' net revenue",
        ),
    )
    for ax, shares, totals, title, unit in panels:
        bars = ax.barh(labels, shares * 100, color=colours, edgecolor="white")
        texts = [
            f"{share:.1%} ({thousands(total)})"
            for share, total in zip(shares, totals, strict=True)
        ]
        ax.bar_label(bars, texts, padding=3, fontsize=8)
        low = min(0.0, float(shares.min()) * 100)
        ax.set_xlim(low * 1.3, min(max(float(shares.max()) * 100, 1) * 1.35, 118))
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.set_title(f"{title} (share, and total in brackets)")
        ax.set_xlabel(unit)
    left.set_ylabel("Segment")
    figure.suptitle("Segment sizes and revenue share", fontweight="bold")
    return figure


def _axis_scale(scale_row: pd.Series) -> tuple[str, dict]:
    """Log or symmetric-log scale for a skewed feature, linear otherwise."""
    if scale_row is None or scale_row["feature_skewness"] <= 1.0:
        return "linear", {}
    if scale_row["feature_min"] >= 0 and scale_row["feature_max"] <= 1:
        return "linear", {}  # a share: its 0-1 range reads best as is
    if scale_row["feature_min"] > 0:
        return "log", {}
    linthresh = 1.0 if abs(scale_row["feature_median"]) >= 1 else 0.01
    return "symlog", {"linthresh": linthresh}


def feature_distributions(data: ReportData, style: SegmentStyle) -> Figure:
    """Box plots (5th-95th percentile whiskers) of every feature by segment."""
    stats = data.feature_stats
    features = list(dict.fromkeys(stats["feature"]))
    scales = stats.groupby("feature").first()
    columns = min(5, len(features))
    rows = int(np.ceil(len(features) / columns))
    figure, axes = plt.subplots(
        rows, columns, figsize=(3.2 * columns, 3.3 * rows + 0.8), squeeze=False
    )
    for ax, feature in zip(axes.flat, features, strict=False):
        rows_of_feature = stats[
            (stats["feature"] == feature) & (stats["customer_count"] > 0)
        ]
        boxes, colours, positions = [], [], []
        for position, row in enumerate(rows_of_feature.itertuples(index=False)):
            boxes.append(
                {
                    "med": row.p50,
                    "q1": row.p25,
                    "q3": row.p75,
                    "whislo": row.p05,
                    "whishi": row.p95,
                    "mean": row.mean_value,
                    "fliers": [],
                    "label": str(row.segment_id),
                }
            )
            colours.append(style.colours[int(row.segment_id)])
            positions.append(position)
        artists = ax.bxp(
            boxes,
            positions=positions,
            patch_artist=True,
            showfliers=False,
            widths=0.65,
            medianprops={"color": "black", "linewidth": 1.2},
        )
        for patch, colour in zip(artists["boxes"], colours, strict=True):
            patch.set_facecolor(colour)
            patch.set_alpha(0.85)
        scale, options = _axis_scale(
            scales.loc[feature] if feature in scales.index else None
        )
        ax.set_yscale(scale, **options)
        suffix = {"log": ", log scale", "symlog": ", symlog scale"}.get(scale, "")
        ax.set_title(feature, fontsize=9)
        ax.set_ylabel(f"{FEATURE_UNITS.get(feature, 'value')}{suffix}", fontsize=8)
        ax.set_xlabel("segment", fontsize=8)
        ax.tick_params(axis="both", labelsize=7)
    for ax in axes.flat[len(features) :]:
        ax.set_visible(False)
    figure.legend(
        handles=style.legend_handles(),
        loc="outside lower center",
        ncol=min(len(style.ids), 5),
        fontsize=8,
        frameon=False,
    )
    figure.suptitle(
        "Feature distributions by segment (box: quartiles, line: median, whiskers: 5th-95th percentile)",
        fontweight="bold",
    )
    return figure


def segment_map(data: ReportData, style: SegmentStyle) -> Figure:
    """Customers by recency and monetary value, log axes, coloured by segment."""
    customers = data.customer_map
    figure, ax = plt.subplots(figsize=(9.5, 7))
    for segment_id in style.ids:
        rows = customers[customers["segment_id"] == segment_id]
        if rows.empty:
            continue
        ax.scatter(
            rows["recency_days"],
            rows["monetary"],
            s=7,
            alpha=0.35 if segment_id == 0 else 0.5,
            color=style.colours[segment_id],
            label=style.labels[segment_id],
            linewidths=0,
            rasterized=True,
            zorder=1 if segment_id == 0 else 2,
        )
    for segment in data.segments.itertuples(index=False):
        x, y = segment.recency_days_median, segment.monetary_median
        if pd.isna(x) or pd.isna(y):
            continue
        ax.scatter(
            x,
            y,
            marker="X",
            s=220,
            color=style.colours[int(segment.segment_id)],
            edgecolor="black",
            linewidth=1.2,
            zorder=4,
        )
        ax.annotate(
            str(int(segment.segment_id)),
            (x, y),
            xytext=(7, 7),
            textcoords="offset points",
            fontsize=10,
            fontweight="bold",
            zorder=5,
        )
    # symmetric log: recency can be 0 days and net revenue 0 or negative
    ax.set_xscale("symlog", linthresh=1)
    ax.set_yscale("symlog", linthresh=10)
    ax.xaxis.set_major_formatter(FuncFormatter(thousands))
    ax.yaxis.set_major_formatter(FuncFormatter(thousands))
    ax.set_xlabel("recency: days since last order (log scale)")
    ax.set_ylabel("monetary: net revenue, currency units (log scale)")
    total = int(data.segments["customer_count"].sum())
    ax.set_title(
        f"Segment map: recency against monetary value\n"
        f"{len(customers):,} of {total:,} customers; X = segment median"
    )
    legend = ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        markerscale=3,
        fontsize=8,
        title="Segment",
    )
    for handle in legend.legend_handles:
        handle.set_alpha(1)
    return figure


def stability(data: ReportData, style: SegmentStyle) -> Figure:
    """Per-segment bootstrap Jaccard stability against the instability line."""
    floor = float(data.model["settings"].get("jaccard_unstable_below", 0.6))
    segments = data.segments[data.segments["segment_id"] != 0]
    figure, ax = plt.subplots(figsize=(max(8, 1.1 * len(segments) + 2), 5))
    labels = [style.labels[int(i)] for i in segments["segment_id"]]
    values = segments["jaccard_stability"].astype(float).fillna(0)
    bars = ax.bar(
        labels,
        values,
        color=[style.colours[int(i)] for i in segments["segment_id"]],
        edgecolor="white",
    )
    texts = [
        "n/a" if pd.isna(value) else f"{value:.2f}"
        for value in segments["jaccard_stability"]
    ]
    ax.bar_label(bars, texts, padding=2, fontsize=9)
    for bar, unstable in zip(bars, segments["is_unstable"], strict=True):
        if unstable:
            bar.set_hatch("//")
            bar.set_edgecolor("black")
    ax.axhline(
        floor,
        color="#d62728",
        linestyle="--",
        linewidth=1.5,
        label=f"instability line: a segment below {floor:g} is flagged unstable",
    )
    ax.set_ylim(0, 1.3)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.legend(loc="upper right", fontsize=8)
    ax.set_ylabel("mean Jaccard similarity over bootstrap refits (0-1)")
    ax.set_xlabel("segment")
    ax.tick_params(axis="x", labelrotation=25)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ari = data.selected_candidate.get("stability_ari")
    ari_text = (
        "" if ari is None else f"\n(whole model: mean adjusted Rand index {ari:.2f})"
    )
    ax.set_title(f"Segment stability under bootstrap resampling{ari_text}")
    return figure


def persona_heatmap(data: ReportData, style: SegmentStyle) -> Figure:
    """Centroid z-scores per segment and persona feature, as a heatmap."""
    z = data.persona_z_scores.set_index("segment_id")
    z.columns = [column.removesuffix("_z") for column in z.columns]
    z.index = [style.labels[int(i)] for i in z.index]
    limit = float(np.clip(np.nanmax(np.abs(z.to_numpy())) if z.size else 1, 1, 3))
    figure, ax = plt.subplots(
        figsize=(1.05 * len(z.columns) + 3.5, max(4.0, 0.6 * len(z) + 2.2))
    )
    sns.heatmap(
        z,
        ax=ax,
        cmap="RdBu_r",
        center=0,
        vmin=-limit,
        vmax=limit,
        annot=True,
        fmt=".1f",
        linewidths=0.5,
        annot_kws={"fontsize": 8},
        cbar_kws={"label": "z-score vs all customers (SD)"},
    )
    ax.grid(False)
    for label, segment_id in zip(ax.get_yticklabels(), z.index, strict=True):
        label.set_color(style.colours[int(segment_id.split(":")[0])])
        label.set_fontweight("bold")
    ax.set_xlabel("feature")
    ax.set_ylabel("segment")
    ax.tick_params(axis="x", labelrotation=35)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_title("Persona profile: segment centroid z-scores per feature")
    return figure
