"""The benchmark's data at each scale, written once into a cache folder.

Real data, tiled: the issue's targets are stated on the real Online Retail
files repeated N times (20 tiles = 10.8 million lines, 87 thousand
customers). Tile ``t`` (0 = the real data unchanged) renumbers what makes a
customer or an invoice distinct, so customers and invoices multiply with the
lines while every tile keeps the real data's shape and dirt:

- ``CustomerID`` + ``t * 100000`` (real ids are 12346..18287), written as
  the real files write it (``17850.0``);
- the digits of ``InvoiceNo`` + ``t * 1000000`` (real numbers are
  536365..581587), keeping a ``C`` (cancellation) or other letter prefix;
- everything else, dates included, unchanged.

The output keeps one file per trading day (``2010-12-01.csv.gz``), each
holding that day's lines of every tile, tile by tile. Two formats, written
from the same rows:

- ``csv.gz``: the real files' text, field for field (the CSV writer quotes
  only what needs quoting);
- ``parquet``: typed columns (Quantity bigint, InvoiceDate timestamp,
  UnitPrice and CustomerID double, the rest text), as a pandas
  ``to_parquet`` of the real data would write them;
- ``csv.gz-malformed`` (only when asked for): the ``csv.gz`` files with one
  line of malformed quoting (:data:`MALFORMED_LINE`, an unterminated
  quote) added at the end of each, as a broken export writes them: the
  build then reads every file with its line-exact reader and quarantines
  that line, where pandas' ``read_csv`` stops at it (as DuckDB's CSV reader
  does unless told to skip what it cannot parse).

Without the real data (or for the ``tiny`` scale) the project's generator
(``python_jobs/generate_data.py --lines-target``) writes the files instead.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REAL_DATA_DIR = PROJECT_ROOT.parent / "shared" / "data" / "online_retail"
REAL_LINES = 541_909
FORMATS = ("csv.gz", "parquet", "csv.gz-malformed")
#: The line added to each file of ``csv.gz-malformed``: its Description
#: opens a quote that no field closes.
MALFORMED_LINE = (
    '999999,85123A,"UNTERMINATED QUOTE,1,2011-12-09 12:50:00,2.55,17850.0,'
    "United Kingdom"
)
#: Lines of the ``tiny`` scale (the generator's smallest useful run).
TINY_LINES = 20_000
#: The issue's scales, in copies of the real data: its 10M is "the real
#: Online Retail data tiled 20 times (10.8 million lines, 87 thousand
#: customers)"; 93 copies are the first above 50M lines (406k customer ids).
NAMED_SCALES = {"1m": 2, "10m": 20, "50m": 93}
CUSTOMER_OFFSET = 100_000
INVOICE_OFFSET = 1_000_000


@dataclass
class Scale:
    """A named data size: ``tiles`` copies of the real data, or generated."""

    name: str
    tiles: int | None  # None: generated
    lines_target: int

    @property
    def source(self) -> str:
        return "generated" if self.tiles is None else "real-tiled"


def parse_scale(text: str, real_available: bool) -> Scale:
    """``tiny``, ``real`` (one tile), ``<N>m`` / ``<N>k`` lines, or ``<N>x`` tiles.

    Lines are rounded up to whole copies of the real data, except the
    issue's own scales (:data:`NAMED_SCALES`).
    """
    name = text.strip().lower()
    if name == "tiny":
        return Scale(name, None, TINY_LINES)
    if name == "real":
        if not real_available:
            raise ValueError(f"scale 'real' needs the real data in {REAL_DATA_DIR}")
        return Scale(name, 1, REAL_LINES)
    if name in NAMED_SCALES and real_available:
        tiles = NAMED_SCALES[name]
        return Scale(name, tiles, tiles * REAL_LINES)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([mkx])", name)
    if not match:
        raise ValueError(
            f"unknown scale {text!r}: use tiny, real, <N>m or <N>k lines, <N>x tiles"
        )
    number, unit = float(match[1]), match[2]
    if unit == "x":
        tiles = max(1, round(number))
        return Scale(name, tiles, tiles * REAL_LINES)
    lines = round(number * (1_000_000 if unit == "m" else 1_000))
    if not real_available:
        return Scale(name, None, lines)
    tiles = max(1, math.ceil(lines / REAL_LINES))
    return Scale(name, tiles, tiles * REAL_LINES)


@dataclass
class Dataset:
    """Files of one scale and format, ready to read."""

    scale: str
    source: str
    file_format: str
    tiles: int | None
    directory: str
    glob: str
    files: int
    bytes: int
    seconds_to_write: float

    @property
    def manifest(self) -> Path:
        return Path(self.directory) / "dataset.json"


def real_data_available(real_dir: Path = REAL_DATA_DIR) -> bool:
    return any(real_dir.glob("*.csv.gz"))


def prepare(
    scale: Scale,
    file_format: str,
    cache_dir: Path,
    real_dir: Path = REAL_DATA_DIR,
    seed: int = 42,
) -> Dataset:
    """The files of ``scale`` in ``file_format``, written unless already cached."""
    if file_format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {file_format!r}")
    label = (
        f"real-x{scale.tiles}"
        if scale.tiles is not None
        else f"generated-{scale.lines_target}-seed{seed}"
    )
    directory = cache_dir / label / file_format.replace(".", "_")
    manifest = directory / "dataset.json"
    extension = file_extension(file_format)
    if manifest.exists():
        cached = Dataset(**json.loads(manifest.read_text()))
        # where the files are now (the cache may have been moved)
        cached.scale = scale.name
        cached.directory = str(directory)
        cached.glob = str(directory / "raw" / f"*.{extension}")
        return cached
    if directory.exists():
        shutil.rmtree(directory)  # an interrupted write
    directory.mkdir(parents=True)
    started = time.perf_counter()
    if scale.tiles is not None:
        _write_tiles(real_dir, directory / "raw", scale.tiles, extension)
    else:
        _generate(directory, scale.lines_target, extension, seed)
    if file_format == "csv.gz-malformed":
        _add_malformed_lines(directory / "raw")
    seconds = time.perf_counter() - started
    files = sorted((directory / "raw").glob(f"*.{extension}"))
    dataset = Dataset(
        scale=scale.name,
        source=scale.source,
        file_format=file_format,
        tiles=scale.tiles,
        directory=str(directory),
        glob=str(directory / "raw" / f"*.{extension}"),
        files=len(files),
        bytes=sum(f.stat().st_size for f in files),
        seconds_to_write=round(seconds, 2),
    )
    manifest.write_text(json.dumps(asdict(dataset), indent=2) + "\n")
    return dataset


def file_extension(file_format: str) -> str:
    """The files' extension in ``file_format`` (``csv.gz-malformed``: csv.gz)."""
    return file_format.removesuffix("-malformed")


def _add_malformed_lines(raw: Path) -> None:
    """Append :data:`MALFORMED_LINE` to every ``.csv.gz`` file of ``raw``
    (decompressed and written again: one gzip member, as an export writes)."""
    import gzip

    for path in sorted(raw.glob("*.csv.gz")):
        text = gzip.decompress(path.read_bytes())
        if text and not text.endswith(b"\n"):
            text += b"\n"
        path.write_bytes(gzip.compress(text + MALFORMED_LINE.encode() + b"\n", 6))


def _generate(directory: Path, lines: int, file_format: str, seed: int) -> None:
    command = [
        sys.executable,
        str(PROJECT_ROOT / "python_jobs" / "generate_data.py"),
        "--out",
        str(directory / "raw"),
        "--truth",
        str(directory / "ground_truth" / "customer_personas.csv"),
        "--lines-target",
        str(lines),
        "--format",
        file_format,
        "--seed",
        str(seed),
        "--quiet",
    ]
    subprocess.run(command, check=True, cwd=PROJECT_ROOT)


def _tiled_rows_sql(tiles: int) -> str:
    """The real lines of one day (table ``day_lines``) repeated ``tiles`` times."""
    invoice = (
        "case when regexp_full_match(InvoiceNo, '[A-Za-z]*[0-9]+') "
        "then regexp_extract(InvoiceNo, '^[A-Za-z]*') || cast("
        "cast(regexp_extract(InvoiceNo, '[0-9]+$') as bigint) "
        f"+ tile * {INVOICE_OFFSET} as varchar) "
        "when tile = 0 then InvoiceNo else InvoiceNo || '-' || tile end"
    )
    customer = (
        "case when try_cast(CustomerID as double) is null then CustomerID "
        f"else printf('%.1f', cast(CustomerID as double) + tile * {CUSTOMER_OFFSET}) end"
    )
    return f"""
        select
            {invoice} as InvoiceNo,
            StockCode, Description, Quantity, InvoiceDate, UnitPrice,
            {customer} as CustomerID,
            Country
        from day_lines
        cross join range({tiles}) as tiles (tile)
        order by tile, line_number
    """


def _write_tiles(real_dir: Path, out: Path, tiles: int, file_format: str) -> None:
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    sources = sorted(real_dir.glob("*.csv.gz"))
    if not sources:
        raise FileNotFoundError(f"no *.csv.gz in {real_dir}")
    rows = _tiled_rows_sql(tiles)
    if file_format == "parquet":
        rows = f"""
            select
                InvoiceNo, StockCode, Description,
                cast(Quantity as bigint) as Quantity,
                strptime(InvoiceDate, '%Y-%m-%d %H:%M:%S') as InvoiceDate,
                cast(UnitPrice as double) as UnitPrice,
                cast(CustomerID as double) as CustomerID,
                Country
            from ({rows})
        """
        options = "format parquet, compression zstd"
    else:
        options = "format csv, header true, compression gzip"
    with duckdb.connect() as con:
        con.execute("set threads = 2")
        con.execute("set enable_progress_bar = false")
        # sorted by file: the per-day filter below then reads one row group
        con.execute(
            "create temp table real_lines as "
            "select filename, ordinality as line_number, * exclude (filename) "
            "from read_csv(?, all_varchar = true, header = true, quote = '\"', "
            "escape = '\"', strict_mode = true, filename = true) with ordinality "
            "order by filename, line_number",
            [[str(source) for source in sources]],
        )
        for source in sources:
            con.execute(
                "create or replace temp table day_lines as "
                "select * from real_lines where filename = ?",
                [str(source)],
            )
            target = out / (source.name.removesuffix(".csv.gz") + f".{file_format}")
            con.execute(f"copy ({rows}) to '{target}' ({options})")
