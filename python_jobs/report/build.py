"""Build the segmentation report: query, draw, embed, write."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt

from . import figures as fig
from .html import render
from .warehouse import ReportError, load_report_data, open_warehouse, resolve_warehouse

DEFAULT_SAMPLE_SIZE = 20_000


def progress(message: str) -> None:
    """Print one progress line to stderr."""
    print(f"report: {message}", file=sys.stderr, flush=True)


def figure_file_name(figure_id: str) -> str:
    """``fig-segment-sizes`` -> ``segment_sizes.png``."""
    return figure_id.removeprefix("fig-").replace("-", "_") + ".png"


def build_report(
    out: Path,
    warehouse: Path | str | None = None,
    save_figures: Path | None = None,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
) -> dict[str, bytes]:
    """Write the HTML report from the warehouse; return each figure's PNG.

    Parameters
    ----------
    out : Path
        The HTML file to write.
    warehouse : Path or str, optional
        The DuckDB file (default: ``DUCKDB_PATH``, else the project default),
        opened read-only.
    save_figures : Path, optional
        Also write each figure as ``<name>.png`` into this folder.
    sample_size : int
        At most this many customers are drawn in the PCA projection.

    Returns
    -------
    dict
        Figure id -> PNG bytes, in the report's order.

    Raises
    ------
    ReportError
        When the warehouse is missing, locked or lacks a table.
    """
    started = time.perf_counter()
    warehouse = resolve_warehouse(warehouse)
    progress(f"reading {warehouse}")
    with open_warehouse(warehouse) as con:
        data = load_report_data(con, sample_size)
    progress(f"queried the warehouse in {time.perf_counter() - started:.1f} s")
    style = fig.SegmentStyle.from_segments(data.segments)
    rendered: dict[str, tuple[bytes, str, str]] = {}
    with plt.rc_context(fig.THEME):
        for figure_id, (draw, caption) in fig.FIGURES.items():
            figure_started = time.perf_counter()
            figure = draw(data, style)
            title = figure.get_suptitle() or figure.axes[0].get_title()
            rendered[figure_id] = (fig.png_bytes(figure), caption, title)
            progress(
                f"drew {figure_id} in {time.perf_counter() - figure_started:.1f} s"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(data, rendered, style.colours), encoding="utf-8")
    if save_figures is not None:
        save_figures.mkdir(parents=True, exist_ok=True)
        for figure_id, (png, _, _) in rendered.items():
            (save_figures / figure_file_name(figure_id)).write_bytes(png)
        progress(f"saved {len(rendered)} PNGs in {save_figures}")
    progress(f"wrote {out} in {time.perf_counter() - started:.1f} s")
    return {figure_id: png for figure_id, (png, _, _) in rendered.items()}


__all__ = ["ReportError", "build_report"]
