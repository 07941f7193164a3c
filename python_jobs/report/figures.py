"""The report's figures: one function per figure, each returning a Figure.

Every segment keeps one colour in every figure (:class:`SegmentStyle`); the
outlier segment 0 of a density model is always grey.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

from .warehouse import FEATURE_UNITS, ReportData  # noqa: E402

OUTLIER_COLOUR = "#9a9a9a"
ALGORITHM_MARKERS = ("o", "s", "^", "D", "v", "P")

#: seaborn's whitegrid look, slightly smaller text, constrained layout.
THEME = {
    **sns.axes_style("whitegrid"),
    **sns.plotting_context("notebook", font_scale=0.85),
    "figure.constrained_layout.use": True,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.titleweight": "bold",
}


@dataclass(frozen=True)
class SegmentStyle:
    """Colour and label of every segment, the same in every figure."""

    colours: dict[int, tuple]
    labels: dict[int, str]

    @classmethod
    def from_segments(cls, segments: pd.DataFrame) -> SegmentStyle:
        ids = sorted(int(segment_id) for segment_id in segments["segment_id"])
        named = [segment_id for segment_id in ids if segment_id != 0]
        # tab10 without its grey, which is kept for the outliers
        palette = [
            colour for i, colour in enumerate(sns.color_palette("tab10")) if i != 7
        ]
        if len(named) > len(palette):
            palette = sns.color_palette("husl", len(named))
        colours = {segment_id: palette[i] for i, segment_id in enumerate(named)}
        if 0 in ids:
            colours[0] = matplotlib.colors.to_rgb(OUTLIER_COLOUR)
        names = dict(
            zip(
                segments["segment_id"].astype(int),
                segments["segment_name"],
                strict=True,
            )
        )
        labels = {
            segment_id: f"{segment_id}: {names[segment_id]}" for segment_id in ids
        }
        return cls(colours=colours, labels=labels)

    @property
    def ids(self) -> list[int]:
        return sorted(self.colours)

    def legend_handles(self, ids: list[int] | None = None) -> list[Patch]:
        return [
            Patch(facecolor=self.colours[segment_id], label=self.labels[segment_id])
            for segment_id in (self.ids if ids is None else ids)
        ]


def png_bytes(figure: Figure) -> bytes:
    """Render a figure to PNG and close it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _thousands(value: float, _position=None) -> str:
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


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
            f"{share:.1%} ({_thousands(total)})"
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
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
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


def model_selection(data: ReportData, style: SegmentStyle) -> Figure:
    """Every candidate's metrics against k, per algorithm, the chosen one marked."""
    candidates = data.candidates
    metrics = (
        ("silhouette", "Silhouette (higher is better)", "mean silhouette, -1 to 1"),
        ("davies_bouldin", "Davies-Bouldin (lower is better)", "index, unitless"),
        (
            "calinski_harabasz",
            "Calinski-Harabasz (higher is better)",
            "index, unitless",
        ),
        (
            "inertia",
            "Inertia (lower is better)",
            "sum of squared distances, scaled units",
        ),
    )
    algorithms = sorted(candidates["algorithm"].unique())
    colours = dict(
        zip(algorithms, sns.color_palette("Dark2", len(algorithms)), strict=True)
    )
    markers = dict(zip(algorithms, ALGORITHM_MARKERS, strict=False))
    figure, axes = plt.subplots(2, 2, figsize=(11, 8))
    for ax, (metric, title, unit) in zip(axes.flat, metrics, strict=True):
        for algorithm in algorithms:
            rows = candidates[
                (candidates["algorithm"] == algorithm) & candidates[metric].notna()
            ].sort_values(["k", "candidate_id"])
            if rows.empty:
                continue
            one_per_k = rows["k"].is_unique
            ax.plot(
                rows["k"],
                rows[metric],
                linestyle="-" if one_per_k else "none",
                color=colours[algorithm],
                alpha=0.7,
            )
            for eligible, face in ((True, colours[algorithm]), (False, "none")):
                subset = rows[rows["is_eligible"] == eligible]
                ax.scatter(
                    subset["k"],
                    subset[metric],
                    marker=markers[algorithm],
                    s=40,
                    facecolors=face,
                    edgecolors=colours[algorithm],
                    zorder=3,
                )
        chosen = candidates[candidates["is_selected"] & candidates[metric].notna()]
        ax.scatter(
            chosen["k"],
            chosen[metric],
            marker="*",
            s=380,
            color="#d62728",
            edgecolor="black",
            zorder=5,
        )
        ax.margins(x=0.08, y=0.12)  # room for the chosen star at an edge
        ax.set_title(title)
        ax.set_xlabel("k (number of segments)")
        ax.set_ylabel(unit)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        if metric in ("calinski_harabasz", "inertia"):
            ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    handles = [
        plt.Line2D([], [], color=colours[a], marker=markers[a], label=a)
        for a in algorithms
    ]
    handles += [
        plt.Line2D(
            [],
            [],
            color="grey",
            marker="o",
            markerfacecolor="none",
            linestyle="none",
            label="ineligible (hollow)",
        ),
        plt.Line2D(
            [],
            [],
            color="#d62728",
            marker="*",
            markersize=14,
            markeredgecolor="black",
            linestyle="none",
            label="chosen",
        ),
    ]
    figure.legend(
        handles=handles, loc="outside lower center", ncol=len(handles), frameon=False
    )
    chosen = data.selected_candidate
    figure.suptitle(
        f"Model selection: every candidate by k (chosen: {chosen.get('algorithm', '?')}, "
        f"k = {chosen.get('k', '?')})",
        fontweight="bold",
    )
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
            lambda v, f=fmt: "" if pd.isna(v) else (f.format(v) if f else _thousands(v))
        )
        sns.heatmap(
            table,
            ax=ax,
            cmap=cmap,
            annot=annotations,
            fmt="",
            linewidths=0.5,
            annot_kws={"fontsize": 8},
            cbar_kws={"label": unit, "format": FuncFormatter(_thousands)},
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
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
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
FIGURES = {
    "fig-segment-sizes": (
        segment_sizes,
        "Share of customers and of net revenue (sales less returns) in each segment; "
        "labels give the share and the total.",
    ),
    "fig-feature-distributions": (
        feature_distributions,
        "Distribution of each customer feature by segment, computed over all customers in "
        "the warehouse. Boxes span the quartiles, whiskers the 5th to 95th percentiles; "
        "skewed features are drawn on a log (or, where zero or negative values occur, "
        "symmetric-log) axis.",
    ),
    "fig-segment-map": (
        segment_map,
        "Each customer's recency (days since the last order) against monetary value (net "
        "revenue), both on symmetric-log axes, coloured by segment, from the published "
        "customer_segments and customer_features; a fixed random sample of at most "
        "--sample-size customers, default 20,000. X marks each segment's median "
        "(segment_profiles). Two of the model's features only: segments that overlap here "
        "differ in the others (see the feature distributions).",
    ),
    "fig-model-selection": (
        model_selection,
        "Every candidate model's metrics against its number of segments k, one colour per "
        "algorithm. Hollow markers are ineligible candidates (too small a segment, too "
        "unstable, or k out of range); the star is the chosen model.",
    ),
    "fig-stability": (
        stability,
        "Mean Jaccard similarity of each segment with its best match over bootstrap refits; "
        "below the dashed line a segment is flagged unstable (hatched bars).",
    ),
    "fig-persona-heatmap": (
        persona_heatmap,
        "Each segment centroid's distance from the mean of all customers, in standard "
        "deviations (SD), "
        "per feature: the values the persona names are derived from. The outlier segment "
        "has no centroid and is not shown.",
    ),
    "fig-rfm-grid": (
        rfm_grid,
        "Customers and net revenue per cell of recency score x frequency score (1-5 "
        "quintiles); the RFM segments are groups of these cells.",
    ),
    "fig-cohort-retention": (
        cohort_retention,
        "Share of each monthly cohort (customers by month of first purchase) that bought "
        "again n months later. The colour scale stops below 100% so later months stay "
        "readable; the first and last months of the data may be partial.",
    ),
    "fig-segment-revenue-by-month": (
        segment_revenue_by_month,
        "Net revenue per month of the customers of each segment, each customer in their "
        "current segment for their whole history. The last month may be partial.",
    ),
}
