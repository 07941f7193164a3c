"""The visual segmentation report (``make report``).

A self-contained HTML page drawn with seaborn and matplotlib: the data
period, the chosen model and the rule that chose it, the personas, and the
figures listed in :data:`report.figures.FIGURES`, each an embedded PNG. The
numbers come from the SQL in ``analyses/`` (run read-only on the warehouse)
and from the tables published for BI (:mod:`report.warehouse`); the report
is the dbt exposure ``segmentation_report``.
"""

import matplotlib

# no display: draw to PNG, set before any module of the package imports pyplot
matplotlib.use("Agg")

from .build import DEFAULT_SAMPLE_SIZE, build_report, figure_file_name  # noqa: E402
from .warehouse import ReportError  # noqa: E402

__all__ = ["DEFAULT_SAMPLE_SIZE", "ReportError", "build_report", "figure_file_name"]
