"""Generate synthetic "Online Retail" data with planted customer personas.

Writes one file per trading day (``YYYY-MM-DD.csv.gz`` or ``.parquet``) in the
schema of the UCI "Online Retail" data set into ``--out``, and the ground
truth (``customer_personas.csv``) plus a ``manifest.json`` with the line
counts per kind of dirt beside it, by default in ``<out>/../ground_truth/``.

Example::

    python python_jobs/generate_data.py --out data/raw --customers 4000 --seed 42
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``datagen`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from datagen.generator import (
    DEFAULT_END,
    DEFAULT_START,
    FORMATS,
    GeneratorConfig,
    OutputExistsError,
    generate,
)

logger = logging.getLogger("generate_data")


def _date(text: str) -> dt.date:
    """Parse an ISO date argument."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from error


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser.

    Returns
    -------
    argparse.ArgumentParser
        The parser of :func:`main`.
    """
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for the daily files"
    )
    parser.add_argument(
        "--customers", type=int, default=4000, help="registered customers"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--start", type=_date, default=DEFAULT_START, help="first day")
    parser.add_argument("--end", type=_date, default=DEFAULT_END, help="last day")
    parser.add_argument(
        "--format", choices=FORMATS, default="csv.gz", help="file format"
    )
    parser.add_argument(
        "--lines-target",
        type=int,
        default=None,
        help="scale customers to give about this many lines (overrides --customers)",
    )
    parser.add_argument(
        "--truth",
        type=Path,
        default=None,
        help="ground-truth CSV (default <out>/../ground_truth/customer_personas.csv); "
        "manifest.json is written beside it",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="delete the *.csv.gz / *.parquet files already in --out first",
    )
    parser.add_argument(
        "--compress-level", type=int, default=6, help="gzip level 1 (fast) .. 9 (small)"
    )
    parser.add_argument("--workers", type=int, default=2, help="compression threads")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator from the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a bad argument or existing output.
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    config = GeneratorConfig(
        out=args.out,
        customers=args.customers,
        seed=args.seed,
        start=args.start,
        end=args.end,
        file_format=args.format,
        lines_target=args.lines_target,
        truth=args.truth,
        overwrite=args.overwrite,
        compress_level=args.compress_level,
        workers=max(1, args.workers),
    )
    try:
        generate(config)
    except (ValueError, OutputExistsError) as error:
        logger.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
