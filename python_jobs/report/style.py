"""The report's look: one colour per segment in every figure, the theme.

Every segment keeps one colour in every figure (:class:`SegmentStyle`); the
outlier segment 0 of a density model is always grey.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

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


def thousands(value: float, _position=None) -> str:
    """A tick label in k, m or bn (12,500 -> 12.5k); a FuncFormatter's function."""
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"
