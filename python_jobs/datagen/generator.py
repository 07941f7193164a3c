"""Orchestration: plan the period, generate and write it day by day.

Memory stays bounded by the invoice-level plan (a few arrays per invoice)
plus one day of lines; compression and writing of finished days run on a
small thread pool while the next day is generated.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .catalogue import NON_PRODUCT_CODES, Catalogue, build_catalogue
from .days import MALFORMED_KINDS, DayGenerator, DayLines
from .output import DayRenderer, write_day
from .personas import PERSONAS, Customers, draw_customers
from .plan import EVENT_CREDIT, EVENT_ORDER, EVENT_RETURN, Plan, build_plan
from .trading_calendar import Calendar, build_calendar

__all__ = [
    "DEFAULT_END",
    "DEFAULT_START",
    "GeneratorConfig",
    "LineCounts",
    "OutputExistsError",
    "generate",
]

logger = logging.getLogger(__name__)

DEFAULT_START = dt.date(2010, 12, 1)
DEFAULT_END = dt.date(2011, 12, 9)
FORMATS = ("csv.gz", "parquet")
MALFORMED_EVERY = 20_000  # one malformed line per this many lines
MIN_MALFORMED = len(MALFORMED_KINDS)
PILOT_CUSTOMERS = 20_000

# Independent random streams (spawn keys); days use (2, day).
_STREAM_CATALOGUE = 0
_STREAM_PLAN = 1
_STREAM_DIRT = 3


class OutputExistsError(RuntimeError):
    """The output already holds files and overwriting was not asked for."""


@dataclass(frozen=True)
class GeneratorConfig:
    """Arguments of one generator run.

    Attributes
    ----------
    out : pathlib.Path
        Folder receiving one file per trading day.
    customers : int
        Number of registered customers (ignored with ``lines_target``).
    seed : int
        Seed; the same seed and arguments give byte-identical files.
    start, end : datetime.date
        First and last day of the period, both included.
    file_format : {"csv.gz", "parquet"}
        Output format.
    lines_target : int or None
        If set, scale the customers to give about this many lines.
    truth : pathlib.Path or None
        Ground-truth CSV; default ``<out>/../ground_truth/customer_personas.csv``.
        The manifest is written beside it as ``manifest.json``.
    overwrite : bool
        Replace the ``*.csv.gz`` / ``*.parquet`` files already in ``out``.
    compress_level : int
        Gzip level of CSV files (1 fastest .. 9 smallest).
    workers : int
        Threads compressing and writing files.
    """

    out: Path
    customers: int = 4000
    seed: int = 42
    start: dt.date = DEFAULT_START
    end: dt.date = DEFAULT_END
    file_format: str = "csv.gz"
    lines_target: int | None = None
    truth: Path | None = None
    overwrite: bool = False
    compress_level: int = 6
    workers: int = 2

    @property
    def truth_path(self) -> Path:
        """Path of the ground-truth CSV."""
        if self.truth is not None:
            return self.truth
        return self.out.parent / "ground_truth" / "customer_personas.csv"

    @property
    def manifest_path(self) -> Path:
        """Path of the manifest JSON (beside the ground truth)."""
        return self.truth_path.parent / "manifest.json"

    def validate(self) -> None:
        """Raise :class:`ValueError` on an impossible argument."""
        if self.customers < 1:
            raise ValueError(f"customers must be at least 1, got {self.customers}")
        if self.lines_target is not None and self.lines_target < 1000:
            raise ValueError(
                f"lines target must be at least 1000, got {self.lines_target}"
            )
        if self.end < self.start + dt.timedelta(days=90):
            raise ValueError(
                f"the period {self.start}..{self.end} is too short; the personas "
                "need at least 90 days (about a year is intended)"
            )
        if self.file_format not in FORMATS:
            raise ValueError(
                f"format must be one of {', '.join(FORMATS)}, got {self.file_format!r}"
            )
        if not 1 <= self.compress_level <= 9:
            raise ValueError(f"compress level must be 1..9, got {self.compress_level}")
        if self.seed < 0:
            raise ValueError(f"seed must be non-negative, got {self.seed}")


def _stream(seed: int, key: int) -> np.random.Generator:
    """An independent random stream of the run."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))


@dataclass
class LineCounts:
    """Counts of the data lines written, by kind of dirt.

    Every count but ``total`` and ``malformed`` is over the well-formed lines
    and includes planted duplicate copies; the kinds overlap (a duplicated
    cancellation line counts as a cancellation and as a duplicate).
    """

    total: int = 0
    cancellation: int = 0
    no_customer: int = 0
    zero_price: int = 0
    non_product: int = 0
    duplicate: int = 0
    non_product_by_code: dict[str, int] = field(default_factory=dict)
    malformed: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(MALFORMED_KINDS, 0)
    )

    def add(self, lines: DayLines, plan: Plan, catalogue: Catalogue) -> None:
        """Add one day's lines.

        Parameters
        ----------
        lines : DayLines
            The day's lines.
        plan : Plan
            The plan the lines come from.
        catalogue : Catalogue
            The catalogue their codes index.
        """
        well = np.ones(len(lines), dtype=bool)
        well[lines.malformed_rows] = False
        event = lines.event
        self.total += len(lines)
        cancelled = plan.kind[event] != EVENT_ORDER
        self.cancellation += int(np.count_nonzero(well & cancelled))
        self.no_customer += int(np.count_nonzero(well & (plan.customer[event] < 0)))
        self.zero_price += int(np.count_nonzero(well & (lines.cents == 0)))
        extra = well & (lines.code >= catalogue.n_products)
        self.non_product += int(np.count_nonzero(extra))
        by_code = np.bincount(
            lines.code[extra] - catalogue.n_products, minlength=len(NON_PRODUCT_CODES)
        )
        for (code, _), count in zip(NON_PRODUCT_CODES, by_code, strict=True):
            before = self.non_product_by_code.get(code, 0)
            self.non_product_by_code[code] = before + int(count)
        self.duplicate += int(np.count_nonzero(lines.duplicate))
        for kind in lines.malformed_kinds:
            self.malformed[kind] += 1

    def as_dict(self) -> dict[str, object]:
        """The counts as a JSON-ready dict."""
        return {
            "total": self.total,
            "well_formed": self.total - sum(self.malformed.values()),
            "cancellation": self.cancellation,
            "no_customer": self.no_customer,
            "zero_price": self.zero_price,
            "non_product": self.non_product,
            "non_product_by_code": self.non_product_by_code,
            "duplicate": self.duplicate,
            "malformed": {**self.malformed, "total": sum(self.malformed.values())},
        }


def _prepare_output(config: GeneratorConfig) -> None:
    """Check and prepare the output folder and the ground-truth location."""
    out = config.out
    truth = config.truth_path
    out_resolved = out.resolve()
    truth_resolved = truth.resolve()
    if out_resolved == truth_resolved.parent or out_resolved in truth_resolved.parents:
        raise ValueError(
            f"the ground truth {truth} must not be inside the raw folder {out}; "
            "a glob over the raw folder would read it"
        )
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} exists and is not a folder")
    existing = sorted(out.iterdir()) if out.exists() else []
    if existing and not config.overwrite:
        raise OutputExistsError(
            f"{out} already holds {len(existing)} entries (e.g. {existing[0].name}); "
            "refusing to write into it. Pass --overwrite to delete the *.csv.gz "
            "and *.parquet files in it first, or choose another --out."
        )
    out.mkdir(parents=True, exist_ok=True)
    truth.parent.mkdir(parents=True, exist_ok=True)
    if config.overwrite:
        removed = 0
        for pattern in ("*.csv.gz", "*.parquet"):
            for path in sorted(out.glob(pattern)):
                path.unlink()
                removed += 1
        if removed:
            logger.info("Removed %d old data files from %s", removed, out)


def _scaled_customers(config: GeneratorConfig, calendar: Calendar) -> int:
    """Customers giving about ``config.lines_target`` lines."""
    assert config.lines_target is not None
    rng = _stream(config.seed, _STREAM_PLAN)
    pilot = build_plan(rng, calendar, draw_customers(rng, PILOT_CUSTOMERS))
    per_customer = pilot.expected_lines() / PILOT_CUSTOMERS
    return max(20, round(config.lines_target / per_customer))


def _malformed_schedule(
    seed: int, plan: Plan, expected_lines: float
) -> dict[int, tuple[str, ...]]:
    """Choose the days (and kinds) of the malformed lines."""
    rng = _stream(seed, _STREAM_DIRT)
    count = max(MIN_MALFORMED, round(expected_lines / MALFORMED_EVERY))
    kinds = [MALFORMED_KINDS[i % len(MALFORMED_KINDS)] for i in range(count)]
    per_day = plan.expected_lines_per_day()
    candidates = np.flatnonzero(per_day >= 20)
    if candidates.size == 0:
        candidates = np.flatnonzero(per_day >= 3)
    if candidates.size == 0:
        return {}
    if count <= candidates.size:
        days = rng.choice(candidates, size=count, replace=False)
    else:
        weights = per_day[candidates] / per_day[candidates].sum()
        days = rng.choice(candidates, size=count, replace=True, p=weights)
    schedule: dict[int, list[str]] = {}
    for day, kind in zip(days.tolist(), kinds, strict=True):
        schedule.setdefault(int(day), []).append(kind)
    return {day: tuple(k) for day, k in schedule.items()}


def _write_truth(path: Path, customers: Customers) -> None:
    """Write the ground truth ``customer_id,persona`` sorted by id."""
    names = [p.name for p in PERSONAS]
    rows = [
        f"{cid},{names[p]}"
        for cid, p in zip(
            customers.ids.tolist(), customers.persona.tolist(), strict=True
        )
    ]
    path.write_text("customer_id,persona\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _manifest(
    config: GeneratorConfig,
    n_customers: int,
    customers: Customers,
    plan: Plan,
    files: list[str],
    counts: LineCounts,
    malformed_lines: list[dict[str, object]],
) -> dict[str, object]:
    """What was generated: arguments, personas, files, invoices and lines."""
    persona_counts = np.bincount(customers.persona, minlength=len(PERSONAS))
    return {
        "generator": "python_jobs/generate_data.py",
        "seed": config.seed,
        "arguments": {
            "out": str(config.out),
            "truth": str(config.truth_path),
            "customers": config.customers,
            "lines_target": config.lines_target,
            "start": config.start.isoformat(),
            "end": config.end.isoformat(),
            "format": config.file_format,
            "compress_level": config.compress_level,
        },
        "customers": n_customers,
        "personas": {
            p.name: int(c) for p, c in zip(PERSONAS, persona_counts, strict=True)
        },
        "files": len(files),
        "first_file": files[0] if files else None,
        "last_file": files[-1] if files else None,
        "invoices": {
            "orders": int(
                np.count_nonzero((plan.kind == EVENT_ORDER) & (plan.customer >= 0))
            ),
            "guest_orders": int(
                np.count_nonzero((plan.kind == EVENT_ORDER) & (plan.customer < 0))
            ),
            "returns": int(np.count_nonzero(plan.kind == EVENT_RETURN)),
            "credits": int(np.count_nonzero(plan.kind == EVENT_CREDIT)),
        },
        "lines": counts.as_dict(),
        "malformed_lines": malformed_lines,
    }


def generate(config: GeneratorConfig) -> dict[str, object]:
    """Generate the data set described by a configuration.

    Parameters
    ----------
    config : GeneratorConfig
        What to generate and where.

    Returns
    -------
    dict
        The manifest (also written to ``config.manifest_path``).

    Raises
    ------
    ValueError
        On an impossible argument.
    OutputExistsError
        If the output holds files and ``overwrite`` is false.
    """
    config.validate()
    started = time.perf_counter()
    _prepare_output(config)
    calendar = build_calendar(config.start, config.end)
    n_customers = config.customers
    if config.lines_target is not None:
        n_customers = _scaled_customers(config, calendar)
        logger.info(
            "Scaled to %d customers for about %d lines",
            n_customers,
            config.lines_target,
        )
    catalogue = build_catalogue(_stream(config.seed, _STREAM_CATALOGUE))
    rng = _stream(config.seed, _STREAM_PLAN)
    customers = draw_customers(rng, n_customers)
    plan = build_plan(rng, calendar, customers)
    expected = plan.expected_lines()
    schedule = _malformed_schedule(config.seed, plan, expected)
    logger.info(
        "Planned %d customers, %d invoices, about %d lines over %d days (%.1fs)",
        n_customers,
        plan.n_events,
        expected,
        calendar.n_days,
        time.perf_counter() - started,
    )
    _write_truth(config.truth_path, customers)

    generator = DayGenerator(plan, catalogue, config.seed)
    renderer = DayRenderer(plan, catalogue, customers, calendar, config.file_format)
    counts = LineCounts()
    malformed_lines: list[dict[str, object]] = []
    files: list[str] = []
    written = 0
    with ThreadPoolExecutor(max_workers=config.workers) as pool:
        pending: deque[Future[int]] = deque()
        for day in range(calendar.n_days):
            if plan.day_bounds[day] == plan.day_bounds[day + 1]:
                continue
            lines = generator.generate(day, schedule.get(day, ()))
            if len(lines) == 0:
                continue
            counts.add(lines, plan, catalogue)
            rendered = renderer.render(day, lines)
            malformed_lines.extend(rendered.malformed)
            files.append(rendered.name)
            pending.append(
                pool.submit(write_day, rendered, config.out, config.compress_level)
            )
            while len(pending) > 2 * config.workers:
                written += pending.popleft().result()
        while pending:
            written += pending.popleft().result()
    if len(generator.book):
        logger.warning("%d return lines fell after the end date", len(generator.book))
    missing = sum(len(k) for k in schedule.values()) - len(malformed_lines)
    if missing:
        logger.warning("%d malformed lines found no eligible place", missing)

    manifest = _manifest(
        config, n_customers, customers, plan, files, counts, malformed_lines
    )
    config.manifest_path.write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
    )
    elapsed = time.perf_counter() - started
    logger.info(
        "Wrote %d lines in %d files (%.1f MB) to %s in %.1fs; truth and manifest in %s",
        counts.total,
        len(files),
        written / 1e6,
        config.out,
        elapsed,
        config.truth_path.parent,
    )
    return manifest
