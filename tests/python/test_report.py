"""The HTML segmentation report (`make report`, make_report.py).

Runs the command once on the session's generated warehouse (built by
test_eda.py's :func:`session_warehouse`) and checks the page: every figure
is an embedded, decodable PNG of a sensible size with a caption, the
personas table lists every segment, and the text names the period and the
model. The scaling that places customers in the PCA figure is checked
against the distances SQL scoring wrote.
"""

from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import sys
from html import unescape

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from pipeline import PROJECT_ROOT
from report.figures import OUTLIER_COLOUR, SegmentStyle
from report.scaling import centroid_matrix, fit_pca, scale_features
from report.warehouse import open_warehouse, read_model_space
from test_eda import session_warehouse

FIGURE_IDS = (
    "fig-segment-sizes",
    "fig-feature-distributions",
    "fig-pca-projection",
    "fig-model-selection",
    "fig-stability",
    "fig-persona-heatmap",
    "fig-rfm-grid",
    "fig-cohort-retention",
    "fig-segment-revenue-by-month",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    run, _ = session_warehouse(tmp_path_factory)
    return run


@pytest.fixture(scope="module")
def report(warehouse, tmp_path_factory):
    """Run `make report`'s command; return (process, html text, figures dir)."""
    work = tmp_path_factory.mktemp("report")
    out = work / "segmentation_report.html"
    figures = work / "figures"
    done = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "python_jobs" / "make_report.py"),
            "--out",
            str(out),
            "--save-figures",
            str(figures),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DUCKDB_PATH": str(warehouse.warehouse)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done, out.read_text(encoding="utf-8"), figures


def figure_element(html: str, figure_id: str) -> str:
    match = re.search(rf'<figure id="{figure_id}">(.*?)</figure>', html, re.DOTALL)
    assert match, f"no figure {figure_id}"
    return match.group(1)


def embedded_png(element: str) -> bytes:
    match = re.search(
        r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', element
    )
    assert match, "no embedded PNG"
    return base64.b64decode(match.group(1), validate=True)


@pytest.mark.parametrize("figure_id", FIGURE_IDS)
def test_every_figure_is_an_embedded_png_with_a_caption(report, figure_id):
    _, html, _ = report
    element = figure_element(html, figure_id)
    png = embedded_png(element)
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 15_000
    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    height, width = image.shape[:2]
    assert width >= 600 and height >= 250
    assert image.shape[2] in (3, 4)
    assert image[..., :3].std() > 0.05  # not a blank canvas
    caption = re.search(r"<figcaption>(.+?)</figcaption>", element, re.DOTALL)
    assert caption and len(caption.group(1)) > 40


def test_each_figure_id_appears_once_and_in_order(report):
    _, html, _ = report
    positions = [html.find(f'id="{figure_id}"') for figure_id in FIGURE_IDS]
    assert all(position > 0 for position in positions)
    assert positions == sorted(positions)
    for figure_id in FIGURE_IDS:
        assert html.count(f'id="{figure_id}"') == 1


def test_report_is_self_contained(report):
    _, html, _ = report
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script" not in html and "<link" not in html


def test_saved_figures_match_the_embedded_ones(report):
    _, html, figures = report
    saved = sorted(path.name for path in figures.glob("*.png"))
    assert len(saved) == len(FIGURE_IDS)
    png = (figures / "segment_sizes.png").read_bytes()
    assert png == embedded_png(figure_element(html, "fig-segment-sizes"))


def test_personas_table_lists_every_segment(report, warehouse):
    _, html, _ = report
    table = re.search(r'<table id="table-personas">(.*?)</table>', html, re.DOTALL)
    assert table
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.DOTALL)
    personas = warehouse.query(
        "select segment_id, segment_name, suggested_action from segment_personas order by segment_id"
    )
    assert len(rows) == len(personas) + 1  # the header row
    for (segment_id, name, action), row in zip(personas, rows[1:], strict=True):
        text = unescape(row)
        assert f">{segment_id}<" in text
        assert name in text and action in text
    swatches = re.findall(
        r'class="swatch" style="background:(#[0-9a-f]{6})"', table.group(1)
    )
    assert len(set(swatches)) == len(personas)


def test_report_names_the_period_and_the_model(report, warehouse):
    done, html, _ = report
    text = unescape(html)
    first, last = warehouse.query(
        "select min(first_purchase_date), max(last_purchase_date) from customer_features"
    )[0]
    assert str(first) in text and str(last) in text
    algorithm, rule, n_segments = warehouse.query(
        "select algorithm, selection_rule, n_segments from segmentation_models "
        "order by trained_at desc limit 1"
    )[0]
    assert "<h1>Customer segmentation report</h1>" in html
    assert rule in text
    assert f"<dd>{algorithm}</dd>" in text
    assert f"{n_segments} segments" in text
    silhouette = warehouse.query(
        "select silhouette from segmentation_model_evaluation where is_selected"
    )[0][0]
    assert f"{silhouette:.3f}" in text
    assert "report: drew fig-pca-projection" in done.stderr


def test_scaling_matches_the_sql_scoring(warehouse):
    with open_warehouse(warehouse.warehouse) as con:
        transform, centroids, sample = read_model_space(con, sample_size=500)
    assert len(sample) == 500
    X = scale_features(sample, transform)
    C = centroid_matrix(centroids, list(transform["feature"])).to_numpy()
    nearest = np.sqrt(((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    assert nearest == pytest.approx(sample["distance_to_centroid"].to_numpy(), abs=1e-5)


def test_pca_projection_is_orthonormal_and_ordered():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 5)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1])
    projection = fit_pca(X)
    assert projection.components @ projection.components.T == pytest.approx(np.eye(2))
    ratio = projection.explained_variance_ratio
    assert ratio[0] >= ratio[1] and ratio.sum() <= 1
    assert np.abs(projection.components[0]).argmax() == 0
    assert projection.transform(X).mean(axis=0) == pytest.approx(0, abs=1e-9)


def test_segment_colours_are_distinct_and_outliers_grey():
    segments = pd.DataFrame(
        {"segment_id": [0, 1, 2, 3], "segment_name": ["Outliers", "A", "B", "C"]}
    )
    style = SegmentStyle.from_segments(segments)
    assert style.colours[0] == matplotlib.colors.to_rgb(OUTLIER_COLOUR)
    assert len(set(style.colours.values())) == 4
    assert style.labels[2] == "2: B"


def test_missing_warehouse_is_one_clear_paragraph(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "python_jobs" / "make_report.py"),
            "--out",
            str(tmp_path / "r.html"),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DUCKDB_PATH": str(tmp_path / "absent.duckdb")},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "make run" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r.html").exists()
