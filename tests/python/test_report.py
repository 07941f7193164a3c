"""The HTML segmentation report (`make report`, make_report.py).

Runs the command once on a copy of the session's shared default build and
its BI publication (test_eda.py's :func:`session_warehouse`) and checks
the page: every figure is an embedded, decodable PNG of a sensible size
with a caption, the personas table lists every segment, and the text names
the period and the model. Also: the report keeps no SQL of its own, its
exposure lists everything it reads, and a publication from another build
is refused.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import sys
from html import unescape

import matplotlib.image
import pandas as pd
import pytest
import yaml
from pipeline import PROJECT_ROOT, run_command
from report.figures import OUTLIER_COLOUR, SegmentStyle
from report.warehouse import (
    ANALYSES,
    PUBLISHED_COLUMNS,
    ReportError,
    load_report_data,
    read_publication,
    run_report_analyses,
)
from test_eda import session_warehouse

FIGURE_IDS = (
    "fig-segment-sizes",
    "fig-feature-distributions",
    "fig-segment-map",
    "fig-model-selection",
    "fig-stability",
    "fig-persona-heatmap",
    "fig-rfm-grid",
    "fig-cohort-retention",
    "fig-segment-revenue-by-month",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def built(generated_build, tmp_path_factory):
    return session_warehouse(
        generated_build, tmp_path_factory.mktemp("report_warehouse")
    )


@pytest.fixture(scope="module")
def warehouse(built):
    return built[0]


def publication_of(warehouse) -> str:
    """The publication the session's build wrote (pipeline.dbt's BI_DUCKDB_PATH)."""
    return str(warehouse.warehouse.parent / "published" / "segments.duckdb")


@pytest.fixture(scope="module")
def report(built, tmp_path_factory):
    """Run `make report`'s command; return (process, html text, figures dir)."""
    warehouse, variables = built
    work = tmp_path_factory.mktemp("report")
    out = work / "segmentation_report.html"
    figures = work / "figures"
    done = run_command(
        [
            sys.executable,
            str(PROJECT_ROOT / "python_jobs" / "make_report.py"),
            "--out",
            str(out),
            "--save-figures",
            str(figures),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
            "--vars",
            json.dumps(variables),
        ],
        env={
            **os.environ,
            "DUCKDB_PATH": str(warehouse.warehouse),
            "BI_DUCKDB_PATH": publication_of(warehouse),
        },
        check=True,
    )
    return done, out.read_text(encoding="utf-8"), figures, work / "target"


@pytest.fixture(scope="module")
def inputs(built, report, tmp_path_factory):
    """The report's analyses (run in-process) and published tables.

    Its dbt compile (same warehouse file, vars and project as the report's)
    starts from the report's parsed project, as a second `make report`
    would, instead of parsing the whole project again."""
    warehouse, variables = built
    work = tmp_path_factory.mktemp("report_inputs")
    (work / "target").mkdir()
    shutil.copyfile(
        report[3] / "partial_parse.msgpack", work / "target" / "partial_parse.msgpack"
    )
    analyses = run_report_analyses(
        warehouse.warehouse, work / "target", json.dumps(variables), work / "logs"
    )
    return analyses, read_publication(publication_of(warehouse))


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
    _, html, _, _ = report
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
    _, html, _, _ = report
    positions = [html.find(f'id="{figure_id}"') for figure_id in FIGURE_IDS]
    assert all(position > 0 for position in positions)
    assert positions == sorted(positions)
    for figure_id in FIGURE_IDS:
        assert html.count(f'id="{figure_id}"') == 1


def test_report_is_self_contained(report):
    _, html, _, _ = report
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script" not in html and "<link" not in html


def test_saved_figures_match_the_embedded_ones(report):
    _, html, figures, _ = report
    saved = sorted(path.name for path in figures.glob("*.png"))
    assert len(saved) == len(FIGURE_IDS)
    png = (figures / "segment_sizes.png").read_bytes()
    assert png == embedded_png(figure_element(html, "fig-segment-sizes"))


def test_personas_table_lists_every_segment(report, warehouse):
    _, html, _, _ = report
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
    done, html, _, _ = report
    text = unescape(html)
    first, last = warehouse.query(
        "select min(first_purchase_date), max(last_purchase_date) from customer_features"
    )[0]
    assert str(first) in text and str(last) in text
    # the model in use: the one registry row flagged so, which scored the customers
    algorithm, rule, n_segments, version = warehouse.query(
        "select algorithm, selection_rule, n_segments, model_version "
        "from segmentation_models where is_in_use"
    )[0]
    assert warehouse.query("select distinct model_version from customer_segments") == [
        (version,)
    ]
    assert "<h1>Customer segmentation report</h1>" in html
    assert rule in text
    assert f"<dd>{algorithm}</dd>" in text
    assert f"{n_segments} segments" in text
    silhouette = warehouse.query(
        "select silhouette from segmentation_model_evaluation where is_selected"
    )[0][0]
    assert f"{silhouette:.3f}" in text
    assert "report: drew fig-segment-map" in done.stderr


def test_segment_map_draws_published_customers(inputs, warehouse):
    analyses, published = inputs
    data = load_report_data(analyses, published, sample_size=300)
    customers = data.customer_map
    assert len(customers) == 300
    assert customers["customer_id"].is_unique
    truth = dict(
        warehouse.query(
            "select customer_id, monetary from customer_features order by customer_id"
        )
    )
    assert customers["monetary"].to_numpy() == pytest.approx(
        [float(truth[customer]) for customer in customers["customer_id"]]
    )
    again = load_report_data(analyses, published, sample_size=300).customer_map
    assert list(again["customer_id"]) == list(customers["customer_id"])
    everyone = load_report_data(analyses, published, sample_size=10**9).customer_map
    assert len(everyone) == len(published["customer_segments"])


def test_a_publication_of_another_build_is_refused(inputs):
    analyses, published = inputs
    other = {**published}
    other["publication_info"] = published["publication_info"].assign(
        model_version="another-model"
    )
    with pytest.raises(ReportError) as error:
        load_report_data(analyses, other, sample_size=100)
    message = str(error.value)
    assert "another-model" in message and "different builds" in message
    assert analyses["report_model"].loc[0, "model_version"] in message


def test_report_keeps_no_sql_of_its_own():
    sql = re.compile(r"\b(select|with)\b[^\"\n]*\bfrom\b|\bgroup by\b", re.IGNORECASE)
    for path in (PROJECT_ROOT / "python_jobs" / "report").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not sql.search(source), f"{path.name}: {sql.search(source).group(0)}"
    assert not (PROJECT_ROOT / "python_jobs" / "report" / "scaling.py").exists()


def test_exposure_lists_what_the_report_reads(report):
    *_, target = report
    manifest = json.loads((target / "manifest.json").read_text())
    names = {node["unique_id"]: node["name"] for node in manifest["nodes"].values()}
    analyses = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "analysis"
    }
    read = {
        names[parent]
        for name in ANALYSES
        for parent in analyses[name]["depends_on"]["nodes"]
    }
    read |= set(PUBLISHED_COLUMNS) - {"publication_info"}
    exposure = manifest["exposures"][
        "exposure.customer_segmentation.segmentation_report"
    ]
    assert {names[node] for node in exposure["depends_on"]["nodes"]} == read
    declared = yaml.safe_load(
        (PROJECT_ROOT / "models" / "marts" / "_exposures.yml").read_text()
    )
    report_exposure = next(
        item for item in declared["exposures"] if item["name"] == "segmentation_report"
    )
    for name in ANALYSES:
        assert name in report_exposure["description"], name


def test_segment_colours_are_distinct_and_outliers_grey():
    segments = pd.DataFrame(
        {"segment_id": [0, 1, 2, 3], "segment_name": ["Outliers", "A", "B", "C"]}
    )
    style = SegmentStyle.from_segments(segments)
    assert style.colours[0] == matplotlib.colors.to_rgb(OUTLIER_COLOUR)
    assert len(set(style.colours.values())) == 4
    assert style.labels[2] == "2: B"


def test_missing_publication_is_one_clear_paragraph(warehouse, tmp_path):
    done = run_command(
        [
            sys.executable,
            str(PROJECT_ROOT / "python_jobs" / "make_report.py"),
            "--out",
            str(tmp_path / "r.html"),
        ],
        env={
            **os.environ,
            "DUCKDB_PATH": str(warehouse.warehouse),
            "BI_DUCKDB_PATH": str(tmp_path / "absent.duckdb"),
        },
    )
    assert done.returncode == 1
    assert "BI_DUCKDB_PATH" in done.stderr and "make run" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r.html").exists()
