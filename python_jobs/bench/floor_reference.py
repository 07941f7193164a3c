"""REFERENCE ONLY - not part of the pipeline: the DuckDB floor of issue 7.

One hand-written DuckDB query computing the notebook's RFM (recency,
frequency, monetary per customer, after the same cleaning) straight from the
raw files: the least work any SQL pipeline over these files can do. (The
casts are no-ops on the real data's types; they keep the query running on
the generator's dirty files.) No
quarantine, no line accounting, no other feature: it is a floor, not a
competitor. The result is materialized in an in-memory table (so nothing is
optimized away) and the time is the query's alone, without the Python or
DuckDB start-up. Every connection keeps freed memory blocks for reuse as
the warehouse does (``block_allocator_memory`` from profiles.yml).

Also timed: the **write floor**, the least a pipeline that keeps every line
pays for it (issue 13: "write each line once"): one `CREATE TABLE AS SELECT`
of every line as the file holds it (CSV: the eight fields as text, no
sniffing; Parquet: its own types), with its file name, into a DuckDB file in
a temporary folder, opened with the warehouse's connection options from
profiles.yml (its storage format). No typing, line number, check or quarantine: a floor
under the staging layer, not a staging layer.

And the **count floor** (CSV only): each file's lines counted, by a plain
read of whole lines with the file name and no parsing. The fast path
needs this independent count to know that the native reader read every
line of a file (issue 13), so a staging layer on the fast path pays the
write floor and the count floor.

And, for CSV, the floor of each step issue 13 asks of the staging and
feature layers, each timed alone on its own (the **steps' floors**): the
lines written once with the floor query's types (the `typed_write`, which
DuckDB writes faster than text), the count floor, the exact duplicates
found by their own pass (one grouping of the written lines by a hash of
their eight fields, the least an exact search needs before it compares
the few lines whose hash repeats), and the features read from the written
lines (the floor query's RFM over them). None of these does a check, a
line number or a quarantine.

    python python_jobs/bench/floor_reference.py 'data/raw/*.parquet'
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

#: The Online Retail columns in file order, with the types the floor query reads.
CSV_TYPES = {
    "InvoiceNo": "VARCHAR",
    "StockCode": "VARCHAR",
    "Description": "VARCHAR",
    "Quantity": "BIGINT",
    "InvoiceDate": "TIMESTAMP",
    "UnitPrice": "DOUBLE",
    "CustomerID": "DOUBLE",
    "Country": "VARCHAR",
}


#: The steps' floors besides the count (see above), in the order they run,
#: each with the name the bench's log and report give it;
#: ``bench.harness.ratios`` adds them up.
STEP_FLOORS = {
    "typed_write_seconds": "typed write",
    "duplicates_seconds": "duplicates' pass",
    "features_seconds": "features' pass",
}


def _columns_sql(types: dict[str, str]) -> str:
    """A DuckDB struct literal of column names and types, for read_csv."""
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in types.items()) + "}"


CSV_COLUMNS = _columns_sql(CSV_TYPES)


def floor_sql(pattern: str) -> str:
    """The RFM query over ``pattern`` (CSV(.gz) or Parquet)."""
    quoted = "'" + pattern.replace("'", "''") + "'"
    if pattern.endswith(".parquet"):
        source = f"read_parquet({quoted}, union_by_name = true)"
    else:
        # typed as read, no sniffing; a line that does not parse is skipped
        source = (
            f"read_csv({quoted}, header = true, auto_detect = false, "
            f"columns = {CSV_COLUMNS}, ignore_errors = true)"
        )
    return rfm_sql(source)


def rfm_sql(source: str) -> str:
    """The RFM query over ``source``, a relation with the Online Retail
    columns (the files, or the lines written from them)."""
    return f"""
        with

        sales as (
            select
                try_cast(CustomerID as double) as customer_id,
                cast(InvoiceNo as varchar) as invoice_no,
                try_cast(InvoiceDate as timestamp) as invoiced_at,
                try_cast(Quantity as double) * try_cast(UnitPrice as double) as amount
            from {source}
            where
                try_cast(CustomerID as double) is not null
                and try_cast(InvoiceDate as timestamp) is not null
                and not starts_with(cast(InvoiceNo as varchar), 'C')
                and try_cast(Quantity as double) > 0
                and try_cast(UnitPrice as double) > 0
        ),

        as_of as (
            select cast(max(invoiced_at) as date) + 1 as as_of_date from sales
        ),

        final as (
            select
                sales.customer_id,
                date_diff('day', cast(max(sales.invoiced_at) as date), any_value(as_of.as_of_date))
                    as recency_days,
                count(distinct sales.invoice_no) as frequency,
                sum(sales.amount) as monetary
            from sales
            cross join as_of
            group by sales.customer_id
        )

        select * from final
    """


def lines_source_sql(pattern: str, typed: bool = False) -> str:
    """Every line of ``pattern`` as the file holds it, with its file name;
    ``typed``: CSV fields with the floor query's types (a line that does not
    parse is then skipped)."""
    quoted = "'" + pattern.replace("'", "''") + "'"
    if pattern.endswith(".parquet"):
        return f"read_parquet({quoted}, union_by_name = true, filename = true)"
    columns = (
        CSV_COLUMNS if typed else _columns_sql(dict.fromkeys(CSV_TYPES, "VARCHAR"))
    )
    return (
        f"read_csv({quoted}, header = true, auto_detect = false, "
        f"columns = {columns}, ignore_errors = true, filename = true)"
    )


def duplicates_sql(table: str) -> str:
    """The hashes of the eight fields that more than one line of ``table``
    shares: the one pass over every line an exact duplicate search needs."""
    fields = ", ".join(f'"{name}"' for name in CSV_TYPES)
    return (
        f"select hash({fields}) as line_key from {table} "
        "group by line_key having count(*) > 1"
    )


def count_sql(pattern: str) -> str:
    """Each CSV file's lines of ``pattern`` counted, no field parsed: the
    whole line is one column (a separator no line holds, no quoting). The
    separator is the survey's (macro ``raw_line_separator``), written out
    here because a reference runs without dbt."""
    quoted = "'" + pattern.replace("'", "''") + "'"
    return (
        "select filename, count(*) as physical_lines from read_csv("
        f"{quoted}, columns = {{'line': 'VARCHAR'}}, header = false, "
        "auto_detect = false, delim = chr(31) || chr(30) || chr(29) || chr(28), "
        "quote = '', escape = '', strict_mode = false, filename = true) "
        "group by filename"
    )


PROFILES = Path(__file__).resolve().parents[2] / "profiles.yml"


def _warehouse_target() -> dict:
    """The DuckDB target of the project's profiles.yml."""
    import yaml

    profiles = yaml.safe_load(PROFILES.read_text())
    return profiles["customer_segmentation"]["outputs"]["duckdb"]


def warehouse_config_options() -> dict:
    """The DuckDB target's ``config_options`` in the project's profiles.yml."""
    return dict(_warehouse_target().get("config_options") or {})


def warehouse_block_allocator_memory() -> str:
    """The DuckDB target's ``block_allocator_memory`` setting in the
    project's profiles.yml, which the floors use as the build does."""
    return str(_warehouse_target()["settings"]["block_allocator_memory"])


def _connect(path: str, threads: int, memory_limit: str, config: dict | None = None):
    import duckdb

    con = duckdb.connect(path, config=config or {})
    con.execute(f"set threads = {int(threads)}")
    con.execute(f"set memory_limit = '{memory_limit}'")
    con.execute(f"set block_allocator_memory = '{warehouse_block_allocator_memory()}'")
    con.execute("set enable_progress_bar = false")
    return con


@contextmanager
def _warehouse_file(prefix: str, threads: int, memory_limit: str):
    """A connection to a new DuckDB file in a temporary folder (``prefix``),
    opened with the warehouse's connection options (its storage format);
    the folder is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        with _connect(
            str(Path(folder) / "lines.duckdb"),
            threads,
            memory_limit,
            warehouse_config_options(),
        ) as con:
            yield con


def _timed(con, *statements: str) -> float:
    """Seconds ``con`` takes to run ``statements``, one after the other."""
    started = time.perf_counter()
    for statement in statements:
        con.execute(statement)
    return time.perf_counter() - started


def run(pattern: str, threads: int = 2, memory_limit: str = "2.5GB") -> dict:
    with _connect(":memory:", threads, memory_limit) as con:
        seconds = _timed(con, f"create table rfm as {floor_sql(pattern)}")
        customers = con.execute("select count(*) from rfm").fetchone()[0]
        count_seconds = None
        if not pattern.endswith(".parquet"):
            count_seconds = round(
                _timed(con, f"create table line_counts as {count_sql(pattern)}"), 3
            )
    with _warehouse_file("write-floor-", threads, memory_limit) as con:
        write_seconds = _timed(
            con,
            f"create table lines as select * from {lines_source_sql(pattern)}",
            "checkpoint",
        )
        lines = con.execute("select count(*) from lines").fetchone()[0]
    steps = dict.fromkeys((*STEP_FLOORS, "features_customers"))
    if not pattern.endswith(".parquet"):
        steps = _staging_steps(pattern, threads, memory_limit)
    return {
        "customers": customers,
        "seconds": round(seconds, 3),
        "lines": lines,
        "write_seconds": round(write_seconds, 3),
        "count_seconds": count_seconds,
        **steps,
    }


def _staging_steps(pattern: str, threads: int, memory_limit: str) -> dict:
    """The steps' floors other than the count: the typed write, the
    duplicates' pass and the features' pass, each timed alone, in a fresh
    DuckDB file of the warehouse's format; with the customers the features'
    pass found (``features_customers``, the floor query's customers when it
    read the same lines)."""
    timings = {}
    with _warehouse_file("steps-floor-", threads, memory_limit) as con:
        for key, statements in zip(
            STEP_FLOORS,
            (
                (
                    f"create table lines as select * from {lines_source_sql(pattern, typed=True)}",
                    "checkpoint",
                ),
                (f"create temp table line_keys as {duplicates_sql('lines')}",),
                (f"create temp table rfm as {rfm_sql('lines')}",),
            ),
            strict=True,
        ):
            timings[key] = round(_timed(con, *statements), 3)
        (timings["features_customers"],) = con.execute(
            "select count(*) from rfm"
        ).fetchone()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pattern", help="glob of the raw CSV(.gz) or Parquet files")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="2.5GB")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.pattern, args.threads, args.memory_limit)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
