"""The report's figures, in the report's order: :data:`FIGURES`.

One function per figure, each returning a Figure, in modules by subject:
:mod:`~report.segment_figures`, :mod:`~report.model_figures` and
:mod:`~report.customer_figures`; the shared look is :mod:`~report.style`.
"""

from __future__ import annotations

from .customer_figures import cohort_retention, rfm_grid, segment_revenue_by_month
from .model_figures import model_selection
from .segment_figures import (
    feature_distributions,
    persona_heatmap,
    segment_map,
    segment_sizes,
    stability,
)
from .style import OUTLIER_COLOUR, THEME, SegmentStyle, png_bytes

__all__ = ["FIGURES", "OUTLIER_COLOUR", "THEME", "SegmentStyle", "png_bytes"]

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
