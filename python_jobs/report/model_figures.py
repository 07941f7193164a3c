"""The report's figure of the model selection: every candidate by k.

See :data:`report.figures.FIGURES`.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .style import ALGORITHM_MARKERS, SegmentStyle, thousands
from .warehouse import ReportData

#: (metric column, panel title, y axis unit), one panel each.
METRICS = (
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


def _metric_panel(
    ax, candidates: pd.DataFrame, metric: str, colours: dict, markers: dict
) -> None:
    """One metric against k: a line and markers per algorithm, the chosen star."""
    for algorithm in colours:
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


def _legend_handles(colours: dict, markers: dict) -> list:
    """One handle per algorithm, then the hollow (ineligible) and chosen marks."""
    handles = [
        plt.Line2D([], [], color=colours[a], marker=markers[a], label=a)
        for a in colours
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
    return handles


def model_selection(data: ReportData, style: SegmentStyle) -> Figure:
    """Every candidate's metrics against k, per algorithm, the chosen one marked."""
    candidates = data.candidates
    algorithms = sorted(candidates["algorithm"].unique())
    colours = dict(
        zip(algorithms, sns.color_palette("Dark2", len(algorithms)), strict=True)
    )
    markers = dict(zip(algorithms, ALGORITHM_MARKERS, strict=False))
    figure, axes = plt.subplots(2, 2, figsize=(11, 8))
    for ax, (metric, title, unit) in zip(axes.flat, METRICS, strict=True):
        _metric_panel(ax, candidates, metric, colours, markers)
        ax.margins(x=0.08, y=0.12)  # room for the chosen star at an edge
        ax.set_title(title)
        ax.set_xlabel("k (number of segments)")
        ax.set_ylabel(unit)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        if metric in ("calinski_harabasz", "inertia"):
            ax.yaxis.set_major_formatter(FuncFormatter(thousands))
    handles = _legend_handles(colours, markers)
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
