"""The visual segmentation report (``make report``).

A self-contained HTML page drawn with seaborn and matplotlib: the data
period, the chosen model and the rule that chose it, the personas, and the
figures listed in :data:`report.figures.FIGURES`, each an embedded PNG. The
numbers come from the SQL in ``analyses/`` (run read-only on the warehouse)
and from the tables published for BI (:mod:`report.warehouse`); the report
is the dbt exposure ``segmentation_report``.
"""

from .build import DEFAULT_SAMPLE_SIZE, build_report, figure_file_name
from .warehouse import ReportError

__all__ = ["DEFAULT_SAMPLE_SIZE", "ReportError", "build_report", "figure_file_name"]
