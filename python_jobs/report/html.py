"""Assemble the self-contained HTML page: text, tables and embedded PNGs."""

from __future__ import annotations

import base64
import datetime as dt
import json
from html import escape

import pandas as pd

from .warehouse import ReportData

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       max-width: 1180px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.1em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.35em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;
          vertical-align: middle; margin-right: 0.4em; }
blockquote { border-left: 4px solid #ccc; margin: 0.8em 0; padding: 0.3em 1em; color: #444;
             background: #fafafa; }
figure { margin: 1.5em 0 2.5em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.92em; margin-top: 0.4em; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1.2em; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
"""


def _number(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "n/a"
    if isinstance(value, int) or (
        isinstance(value, float) and value.is_integer() and abs(value) > 999
    ):
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _day(value) -> str:
    """A date (pandas reads SQL dates as midnight timestamps) as YYYY-MM-DD."""
    return escape(str(pd.Timestamp(value).date()))


def _hex(colour: tuple) -> str:
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in colour[:3])


def _facts(items: list[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{escape(term)}</dt><dd>{text}</dd>" for term, text in items)
    return f'<dl class="facts">{rows}</dl>'


def summary_section(data: ReportData) -> str:
    """The data period and volumes."""
    period = data.period
    return (
        '<section id="data-period"><h2>Data</h2>'
        + _facts(
            [
                (
                    "Period",
                    f"{_day(period['first_purchase_date'])} to "
                    f"{_day(period['last_purchase_date'])} (first to last purchase)",
                ),
                ("Features measured as of", _day(period["as_of_date"])),
                ("Customers segmented", _number(int(period["customer_count"]))),
                ("Net revenue of these customers", _number(period["net_revenue"], 2)),
                (
                    "Raw lines",
                    f"{_number(int(period['lines_read']))} read from "
                    f"{_number(int(period['file_count']))} files: "
                    f"{_number(int(period['lines_staged']))} staged, "
                    f"{_number(int(period['lines_rejected']))} quarantined",
                ),
            ]
        )
        + "</section>"
    )


def model_section(data: ReportData) -> str:
    """The chosen model, its metrics and the rule that chose it."""
    model, chosen, candidates = data.model, data.selected_candidate, data.candidates
    outliers = data.segments[data.segments["segment_id"] == 0]
    segments_text = f"{model['n_segments']} segments"
    if model["has_outlier_segment"] and not outliers.empty:
        share = float(outliers["customer_share"].iloc[0])
        segments_text += f" plus outlier segment 0 ({share:.1%} of customers)"
    parameters = json.loads(model["parameters_json"] or "{}")
    metric_rows = [
        ("Silhouette (higher is better)", chosen.get("silhouette")),
        ("Davies-Bouldin (lower is better)", chosen.get("davies_bouldin")),
        ("Calinski-Harabasz (higher is better)", chosen.get("calinski_harabasz")),
        ("Inertia (lower is better)", chosen.get("inertia")),
        ("Bootstrap stability, mean ARI", chosen.get("stability_ari")),
        ("Smallest segment share", chosen.get("smallest_segment_share")),
        ("Noise share (outliers)", chosen.get("noise_share")),
    ]
    metrics = "".join(
        f'<tr><th>{escape(name)}</th><td class="number">{_number(value)}</td></tr>'
        for name, value in metric_rows
    )
    features = data.features
    used = features[features["is_used"]]["feature"]
    dropped = (
        "; ".join(
            f"{escape(row.feature)} ({escape(row.drop_reason or '')})"
            for row in features[~features["is_used"]].itertuples(index=False)
        )
        or "none"
    )
    note = ""
    if model.get("selection_fallback"):
        note += (
            "<p><strong>No candidate met every eligibility rule</strong>: the model is "
            "the fallback the rule describes.</p>"
        )
    if model.get("selection_note"):
        note += f"<p>{escape(model['selection_note'])}</p>"
    eligible = int(candidates["is_eligible"].sum())
    return (
        '<section id="model"><h2>The model chosen, and why</h2>'
        + _facts(
            [
                ("Algorithm", escape(model["algorithm"])),
                ("Segments", escape(segments_text)),
                (
                    "Parameters",
                    escape(", ".join(f"{k}={v}" for k, v in parameters.items())),
                ),
                (
                    "Candidates",
                    f"{len(candidates)} fitted, {eligible} eligible "
                    f"(algorithms: {escape(', '.join(sorted(candidates['algorithm'].unique())))})",
                ),
                ("Features used", escape(", ".join(used))),
                ("Features dropped", dropped),
                (
                    "Model version",
                    f"{escape(model['model_version'])}, trained "
                    f"{escape(str(model['trained_at'])[:19])} on "
                    f"{_number(int(model['training_customers'] or 0))} customers",
                ),
            ]
        )
        + f'<table id="table-chosen-metrics"><tbody>{metrics}</tbody></table>'
        + "<p><strong>Selection rule</strong> (the registry's selection_rule):</p>"
        + f"<blockquote>{escape(model['selection_rule'] or '')}</blockquote>"
        + note
        + "</section>"
    )


def personas_table(data: ReportData, colours: dict[int, tuple]) -> str:
    """The personas with their description, suggested action and size."""
    rows = []
    for segment in data.segments.itertuples(index=False):
        stability = segment.jaccard_stability
        rows.append(
            "<tr>"
            f'<td class="number">{int(segment.segment_id)}</td>'
            f'<td><span class="swatch" style="background:{_hex(colours[int(segment.segment_id)])}">'
            f"</span>{escape(segment.segment_name)}</td>"
            f"<td>{escape(segment.persona_description or '')}</td>"
            f"<td>{escape(segment.suggested_action or '')}</td>"
            f'<td class="number">{int(segment.customer_count):,}</td>'
            f'<td class="number">{segment.customer_share:.1%}</td>'
            f'<td class="number">{segment.revenue_share:.1%}</td>'
            f'<td class="number">{"n/a" if pd.isna(stability) else f"{stability:.2f}"}</td>'
            "</tr>"
        )
    header = "".join(
        f"<th>{name}</th>"
        for name in (
            "Segment",
            "Persona",
            "Description",
            "Suggested action",
            "Customers",
            "Customer share",
            "Revenue share",
            "Stability (Jaccard)",
        )
    )
    return (
        '<section id="personas"><h2>Personas</h2>'
        f'<table id="table-personas"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def figure_element(figure_id: str, png: bytes, caption: str, title: str) -> str:
    """A figure with its PNG embedded as base64 and its caption."""
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="{escape(figure_id)}">'
        f'<img alt="{escape(title)}" src="data:image/png;base64,{encoded}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def render(
    data: ReportData,
    figures: dict[str, tuple[bytes, str, str]],
    colours: dict[int, tuple],
) -> str:
    """The whole page.

    Parameters
    ----------
    data : ReportData
        What the warehouse holds.
    figures : dict
        Figure id -> (PNG bytes, caption, title), in the page's order.
    colours : dict
        Segment id -> RGB colour, as in the figures.
    """
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        "<h1>Customer segmentation report</h1>",
        f'<p class="meta">Generated {generated} from the analyses and the BI '
        f"publication {escape(str(data.publication['publication_version']))}; model "
        f"{escape(data.model['model_version'])} ({escape(data.model['algorithm'])}, "
        f"{data.model['n_segments']} segments). Data from "
        f"{_day(data.period['first_purchase_date'])} to "
        f"{_day(data.period['last_purchase_date'])}.</p>",
        summary_section(data),
        model_section(data),
        personas_table(data, colours),
        '<section id="figures"><h2>Figures</h2>',
        *(
            figure_element(figure_id, png, caption, title)
            for figure_id, (png, caption, title) in figures.items()
        ),
        "</section>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Customer segmentation report</title>"
        f"<style>{STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
