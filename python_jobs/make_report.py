"""Draw the segmentation report from the analyses and the publication.

The ``make report`` command. Compiles the analyses the report needs with
dbt and runs them read-only on the warehouse at ``DUCKDB_PATH`` (default
``warehouse/segmentation.duckdb``), reads the BI publication at
``BI_DUCKDB_PATH`` (default ``published/segments.duckdb``) read-only, and
writes a self-contained HTML page, its figures embedded as PNG. Example::

    DUCKDB_PATH=/tmp/wh.duckdb BI_DUCKDB_PATH=/tmp/published/segments.duckdb \\
        python python_jobs/make_report.py --out /tmp/report.html \\
        --save-figures /tmp/figures
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``report`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import DEFAULT_SAMPLE_SIZE, build_report
from run_analyses import AnalysisError, command_parser


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = command_parser(
        __doc__.split("\n\n")[0],
        "reports/segmentation_report.html",
        "the HTML file to write",
    )
    parser.add_argument(
        "--save-figures",
        type=Path,
        metavar="DIR",
        help="also write every figure as a PNG file into DIR",
    )
    parser.add_argument(
        "--sample-size",
        type=int,
        default=DEFAULT_SAMPLE_SIZE,
        help="most customers drawn in the segment map",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Write the report; return the exit code."""
    args = build_parser().parse_args(argv)
    if args.sample_size < 2:
        print("error: --sample-size must be at least 2.", file=sys.stderr)
        return 2
    try:
        build_report(
            args.out,
            save_figures=args.save_figures,
            sample_size=args.sample_size,
            target_path=args.target_path.resolve(),
            dbt_vars=args.dbt_vars,
            log_path=args.log_path.resolve() if args.log_path else None,
        )
    except AnalysisError as error:  # the report's errors (ReportError) too
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
