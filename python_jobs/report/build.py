"""Build the segmentation report: run the analyses, read the publication, draw, write."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt

from . import figures as fig
from .html import render
from .warehouse import (
    ANALYSES,
    ReportError,
    load_report_data,
    read_publication,
    resolve_publication,
    resolve_warehouse,
    run_report_analyses,
)

DEFAULT_SAMPLE_SIZE = 20_000


def progress(message: str) -> None:
    """Print one progress line to stderr."""
    print(f"report: {message}", file=sys.stderr, flush=True)


def figure_file_name(figure_id: str) -> str:
    """``fig-segment-sizes`` -> ``segment_sizes.png``."""
    return figure_id.removeprefix("fig-").replace("-", "_") + ".png"


def build_report(
    out: Path,
    save_figures: Path | None = None,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    target_path: Path = Path("target"),
    dbt_vars: str | None = None,
    log_path: Path | None = None,
) -> dict[str, bytes]:
    """Write the HTML report; return each figure's PNG.

    The warehouse is ``DUCKDB_PATH`` and the publication ``BI_DUCKDB_PATH``
    (their defaults otherwise), both opened read-only.

    Parameters
    ----------
    out : Path
        The HTML file to write.
    save_figures : Path, optional
        Also write each figure as ``<name>.png`` into this folder.
    sample_size : int
        At most this many customers are drawn in the segment map.
    target_path, dbt_vars, log_path
        Passed to `dbt compile` for the analyses (as for `make eda`).

    Returns
    -------
    dict
        Figure id -> PNG bytes, in the report's order.

    Raises
    ------
    ReportError
        When the warehouse or the publication is missing, locked, lacks a
        table or comes from another build, or an analysis fails.
    """
    started = time.perf_counter()
    warehouse, publication = resolve_warehouse(), resolve_publication()
    progress(f"compiling and running {len(ANALYSES)} analyses on {warehouse}")
    analyses = run_report_analyses(warehouse, target_path, dbt_vars, log_path)
    progress(f"reading the publication {publication}")
    data = load_report_data(analyses, read_publication(publication), sample_size)
    progress(f"read the data in {time.perf_counter() - started:.1f} s")
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
