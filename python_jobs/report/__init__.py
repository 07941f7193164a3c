"""The visual segmentation report (``make report``).

A self-contained HTML page drawn with seaborn and matplotlib from the
warehouse, opened read-only: the data period, the chosen model and the rule
that chose it, the personas, and the figures listed in
:data:`report.figures.FIGURES`, each an embedded PNG. Queries aggregate in
DuckDB; only small results reach pandas.
"""

from .build import DEFAULT_SAMPLE_SIZE, build_report, figure_file_name
from .warehouse import ReportError

__all__ = ["DEFAULT_SAMPLE_SIZE", "ReportError", "build_report", "figure_file_name"]
