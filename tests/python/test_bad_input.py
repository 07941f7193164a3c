"""Bad input: every case is quarantined with a reason, or stops the build with
one paragraph a person can act on, and the last good publication stays.

The module builds one project folder again and again (same warehouse, same
BI publication, same dbt vars, so dbt's partial parsing keeps each build
short): the first build holds every case that is quarantined and goes on;
each later build swaps the raw files for one case that must stop, and checks
the message and that the publication is the one the last good build made.
A build that must stop leaves out the seeds, their tests and the unit tests
(STOP), which run before any input is read; the builds of another format or
dialect build up to customer_features (FEATURES), not the clustering.
docs/troubleshooting.md lists what the user sees for each case.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import os
import random
import shutil
from pathlib import Path

import duckdb
import pytest
from datagen.output import COLUMNS
from pipeline import DbtRun, dbt, select_with_ancestors

#: The Online Retail header, in file order (the generator's own).
HEADER = list(COLUMNS)
# Light clustering: these tests are about the input, not the clustering.
SMALL_SEGMENTATION = {
    "algorithms": ["kmeans"],
    "k_min": 3,
    "k_max": 4,
    "bootstrap_samples": 0,
    "sample_size": 50,
}
# Lower than the defaults (100000), so that BAD_LINES show the vars apply.
MAX_ABS = {"max_abs_quantity": 5000, "max_abs_unit_price": 5000}
# A build that must stop leaves out what runs before the stop and does not
# read the input: the seeds (loaded by the module's first build), their
# tests, the unit tests and the time spine; and the generic data tests
# (unique, not_null, ...: the first build runs them on the same models),
# none of which is what stops a build. The node that stops (a model, a
# hook or a singular test such as customer_features_can_be_segmented), and
# the on-run-end publication hook that must keep the last publication, run.
STOP = [
    "--exclude",
    "resource_type:seed",
    "resource_type:unit_test",
    "metricflow_time_spine",
    "test_type:generic",
]
# The builds that read another format or dialect check the staged lines,
# the rejects and the customer features: they build those and what they are
# made from (with the data tests on them); the clustering is not their point.
FEATURES = select_with_ancestors("customer_features", "transaction_rejects")
# what the publication hook logs when a node of the build failed
KEPT = "BI publication: not published, the last one is kept; failed:"
DATE_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
]


# --- helpers shared with test_faults.py and test_invariants.py ---------------


def csv_text(rows: list[list[object]], header: list[str] = HEADER) -> str:
    """Rows as CSV text with a header, quoting only where needed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def sale_rows(
    customers: int, seed: int = 1, first_customer: int = 12001, invoices: int = 1
) -> list[list[object]]:
    """Product sales of `customers` different customers in 2011.

    Each customer has `invoices` sale invoices of one to three lines, with
    quantities and prices that differ from one customer to the next.
    """
    rng = random.Random(seed)
    rows: list[list[object]] = []
    invoice_no = 540000 + seed * 1000
    for number in range(customers):
        customer = f"{first_customer + number}.0"
        for _ in range(invoices):
            invoice_no += 1
            when = f"2011-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d} {rng.randint(8, 18):02d}:30:00"
            for line in range(rng.randint(1, 3)):
                rows.append(
                    [
                        invoice_no,
                        f"2{line}{number % 7}01",
                        f"PRODUCT {line}",
                        rng.randint(1, 12) * (1 + number % 4),
                        when,
                        rng.choice(["0.85", "1.25", "2.95", "4.15", "12.75"]),
                        customer,
                        "United Kingdom",
                    ]
                )
    return rows


def publication_state(database: Path) -> tuple[str, str, str] | None:
    """(publication version, SHA-256 of the DuckDB file, Parquet folder), or None."""
    if not database.is_file():
        return None
    with duckdb.connect(str(database), read_only=True) as con:
        (version,) = con.sql(
            "select distinct publication_version from publication_info"
        ).fetchone()
    digest = hashlib.sha256(database.read_bytes()).hexdigest()
    return version, digest, os.readlink(database.parent / "parquet")


def assert_clear_stop(run: DbtRun, *phrases: str) -> str:
    """The build failed with a message holding every phrase and no traceback."""
    assert run.returncode != 0, run.output[-3000:]
    assert "Traceback" not in run.output, run.output[-6000:]
    for phrase in phrases:
        assert phrase in run.output, f"{phrase!r} not in:\n{run.output[-3000:]}"
    return run.output


# --- the project folder every build of this module shares -------------------


class Project:
    """One warehouse, one publication, constant vars; raw files swapped per case.

    Each case replaces the raw folder with files of the same names, so each
    build is a full refresh: an incremental run would skip files whose names
    are already loaded (as documented for users who replace their exports).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.raw = root / "raw"
        self.published = root / "published" / "segments.duckdb"
        self.log = root / "work" / "logs" / "dbt.log"
        self.logged: list[tuple[DbtRun, str]] = []
        self.variables = {
            "raw_transactions": f"{self.raw}/*",
            "raw_date_formats": DATE_FORMATS,
            **MAX_ABS,
            "segmentation": SMALL_SEGMENTATION,
            # the native reader's files in writes of at most 8 lines, so that
            # a load of a few files goes through several (raw_native_batches):
            # quarantine_build writes good.csv, good_redelivered.csv and
            # native_then_exact.csv in three different writes
            "raw_native_batch_lines": 8,
        }

    def build(
        self,
        files: dict[str, str | bytes],
        variables: dict | None = None,
        args: list[str] | None = None,
    ) -> DbtRun:
        shutil.rmtree(self.raw, ignore_errors=True)
        self.raw.mkdir(parents=True)
        for name, content in files.items():
            path = self.raw / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        start = self.log.stat().st_size if self.log.exists() else 0
        run = dbt(
            "build",
            self.root / "work",
            {**self.variables, **(variables or {})},
            args=["--full-refresh", *(args or [])],
            env={"BI_DUCKDB_PATH": str(self.published)},
        )
        with self.log.open("rb") as handle:
            handle.seek(start)
            self.logged.append((run, handle.read().decode("utf-8", "replace")))
        return run

    def build_log(self, run: DbtRun) -> str:
        """What dbt wrote to its log file during that build (its SQL included)."""
        return next(logged for built, logged in self.logged if built is run)

    def publication(self) -> tuple[str, str, str] | None:
        return publication_state(self.published)


# Line numbers below are physical lines: the header is line 1.
BAD_LINES = [
    (
        2,
        "malformed_quoting",
        '560001,22001,"BROKEN "QUOTE",1,2011-03-04 10:00:00,1.5,14003.0,France',
    ),
    (
        3,
        "wrong_field_count",
        "560002,22001,LAMP,1,2011-03-04 10:00:00,1.5,14003.0,France,EXTRA",
    ),
    (4, "wrong_field_count", "560003,22001,LAMP,1,2011-03-04 10:00:00,1.5,14003.0"),
    (
        5,
        "unparseable_quantity",
        "560004,22001,LAMP,abc,2011-03-04 10:00:00,1.5,14003.0,France",
    ),
    (
        6,
        "unparseable_unit_price",
        "560005,22001,LAMP,1,2011-03-04 10:00:00,x1.5,14003.0,France",
    ),
    (7, "blank_line", ""),
    (
        8,
        "unparseable_invoice_date",
        "560006,22001,LAMP,1,2011.03.04 10:00,1.5,14003.0,France",
    ),
    (
        9,
        "invoice_date_in_future",
        "560007,22001,LAMP,1,2099-03-04 10:00:00,1.5,14003.0,France",
    ),
    (
        10,
        "absurd_quantity",
        "560008,22001,LAMP,1000000000,2011-03-04 10:00:00,1.5,14003.0,France",
    ),
    (11, None, '560009,22001,"LAMP, ""BIG""",3,2011-03-04 10:00:00,1.5,14003.0,France'),
    (
        12,
        "duplicate_line",
        '560009,22001,"LAMP, ""BIG""",3,2011-03-04 10:00:00,1.5,14003.0,France',
    ),
    (13, "missing_invoice_no", ",22001,LAMP,1,2011-03-04 10:00:00,1.5,14003.0,France"),
    (14, None, "560010,22002,LAMP\x1fBLUE,2,2011-03-05 10:00:00,2.5,14006.0,France"),
    (15, "missing_stock_code", "560011,,LAMP,1,2011-03-04 10:00:00,1.5,14003.0,France"),
    (
        16,
        "absurd_unit_price",
        "560012,22001,LAMP,1,2011-03-04 10:00:00,900000,14003.0,France",
    ),
    # over the module's max_abs_* vars (MAX_ABS), under their defaults: the
    # vars, not the defaults, decide
    (
        17,
        "absurd_quantity",
        "560013,22001,LAMP,-5001,2011-03-04 10:00:00,1.5,14003.0,France",
    ),
    (
        18,
        "absurd_unit_price",
        "560014,22001,LAMP,1,2011-03-04 10:00:00,5000.01,14003.0,France",
    ),
    # at the vars' limits: staged
    (
        19,
        None,
        "560015,22001,LAMP AT THE LIMITS,5000,2011-03-04 10:00:00,5000,14007.0,France",
    ),
]


# (line number, reject reason or None, line) of native_then_exact.csv
NATIVE_THEN_EXACT = [
    (2, None, "560401,22001,LAMP,1,2011-03-04 10:00:00,1.5,14011.0,France"),
    (3, "blank_line", ""),
    (
        4,
        "wrong_field_count",
        "560402,22001,LAMP,1,2011-03-04 10:00:00,1.5,14011.0,France,EXTRA",
    ),
    (5, None, '560403,22001,"LAMP, BIG",2,2011-03-04 10:00:00,1.5,14011.0,France'),
    (
        6,
        "unparseable_quantity",
        "560404,22001,LAMP,x,2011-03-04 10:00:00,1.5,14011.0,France",
    ),
    (7, None, "560405,22002,LAMP,1,2011-03-04 10:00:00,1.5,14011.0,France"),
]
NATIVE_THEN_EXACT_LINES = [line for _, _, line in NATIVE_THEN_EXACT]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(tmp_path_factory.mktemp("bad_input"))


@pytest.fixture(scope="module")
def quarantine_build(project: Project) -> DbtRun:
    """The first build: every case that is quarantined, in one glob.

    Every customer has exactly one invoice, so the feature
    mean_days_between_orders is null for all of them.
    """
    good = csv_text(sale_rows(24))
    files = {
        "good.csv": good,
        # the same export delivered again under another name
        "good_redelivered.csv": "".join(good.splitlines(keepends=True)[:11]),
        # columns in another order, and one the project does not know
        "other_order.csv": csv_text(
            [
                [
                    "France",
                    "gift wrap",
                    "14001.0",
                    "3.5",
                    "2011-03-04 10:00:00",
                    2,
                    "LAMP",
                    "22001",
                    560101,
                ],
                [
                    "France",
                    "",
                    "14002.0",
                    "4.5",
                    "2011-03-05 11:00:00",
                    6,
                    "LAMP",
                    "22001",
                    560102,
                ],
            ],
            header=[
                "Country",
                "Notes",
                "CustomerID",
                "UnitPrice",
                "InvoiceDate",
                "Quantity",
                "Description",
                "StockCode",
                "InvoiceNo",
            ],
        ),
        "bad_lines.csv": "\n".join(
            [",".join(HEADER), *(line for _, _, line in BAD_LINES)]
        )
        + "\n",
        # day-first dates: '04/03/2011' is the 4th of March because every
        # slash date of the load reads as %d/%m/%Y and not all as %m/%d/%Y
        "uk_dates.csv": csv_text(
            [
                [
                    560201,
                    "22001",
                    "LAMP",
                    2,
                    "04/03/2011 10:00",
                    "1.5",
                    "14004.0",
                    "France",
                ],
                [
                    560202,
                    "22001",
                    "LAMP",
                    5,
                    "25/03/2011 10:00",
                    "1.5",
                    "14005.0",
                    "France",
                ],
            ]
        ),
        "empty.csv": "",
        "header_only.csv": ",".join(HEADER) + "\n",
        # the Online Retail header and no malformed quoting, so the native
        # reader reads it first; a blank line and an extra field make it
        # account for fewer lines, so the line-exact reader reads it again
        "native_then_exact.csv": "\n".join([",".join(HEADER), *NATIVE_THEN_EXACT_LINES])
        + "\n",
    }
    run = project.build(files)
    assert run.returncode == 0, run.output[-5000:]
    # data lines written: physical lines less the header
    run.lines_written = sum(
        max(len(content.split("\n")) - 2, 0) for content in files.values()
    )
    return run


def _file_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def test_bad_lines_are_quarantined_each_with_its_reason(quarantine_build):
    rejects = {
        (_file_name(path), line): reason
        for path, line, reason in quarantine_build.query(
            "select source_file, source_line_number, reject_reason from transaction_rejects"
        )
    }
    expected = {
        ("bad_lines.csv", line): reason for line, reason, _ in BAD_LINES if reason
    }
    assert {k: v for k, v in rejects.items() if k[0] == "bad_lines.csv"} == expected
    staged = quarantine_build.query(
        "select source_line_number, description from stg_online_retail__transaction_lines "
        "where source_file like '%/bad_lines.csv' order by 1"
    )
    # a quoted field keeps its comma and quotes; a stray control character stays in its field
    assert staged == [
        (11, 'LAMP, "BIG"'),
        (14, "LAMP\x1fBLUE"),
        (19, "LAMP AT THE LIMITS"),
    ]


def test_a_file_the_native_reader_cannot_account_for_is_read_line_exactly(
    project, quarantine_build
):
    rejects = quarantine_build.query(
        "select source_line_number, reject_reason, raw_line from transaction_rejects "
        "where source_file like '%/native_then_exact.csv' order by 1"
    )
    assert [(line, reason) for line, reason, _ in rejects] == [
        (line, reason) for line, reason, _ in NATIVE_THEN_EXACT if reason
    ]
    # a quarantined line keeps its text as read
    assert rejects[1][2] == NATIVE_THEN_EXACT[2][2]
    assert rejects[2][2] == NATIVE_THEN_EXACT[4][2]
    readers = dict(
        (_file_name(path), read_by)
        for path, read_by in quarantine_build.query(
            "select source_file, read_by from source_file_loads"
        )
    )
    assert readers["native_then_exact.csv"] == "line_exact_reader"
    # malformed quoting and columns in another order are never read by the native reader
    assert readers["bad_lines.csv"] == readers["other_order.csv"] == "line_exact_reader"
    assert readers["good.csv"] == "native_reader"
    assert (
        "Read by the line-exact reader (the native reader could not account for every line)"
        in (quarantine_build.output)
    )
    # the load's native writes after the first and the file read again are
    # hooks of the model; they parse dates in the order the model ranked
    # over a sample of the load's lines, which is read once per load
    assert project.build_log(quarantine_build).count("sample_dates as (") == 1


def test_a_redelivered_file_is_all_duplicates(quarantine_build):
    loads = {
        _file_name(path): (read, staged, rejected, duplicate)
        for path, read, staged, rejected, duplicate in quarantine_build.query(
            "select source_file, lines_read, lines_staged, lines_rejected, lines_duplicate "
            "from source_file_loads"
        )
    }
    assert loads["good_redelivered.csv"] == (10, 0, 10, 10)
    assert loads["good.csv"][2] == 0


def test_empty_and_header_only_files_count_zero_lines_and_warn(quarantine_build):
    loads = dict(
        (_file_name(path), (read, is_empty))
        for path, read, is_empty in quarantine_build.query(
            "select source_file, lines_read, is_empty from source_file_loads"
        )
    )
    assert loads["empty.csv"] == (0, True)
    assert loads["header_only.csv"] == (0, True)
    assert "WARN 2 raw_files_without_transaction_lines" in quarantine_build.output
    # bad_lines.csv and the redelivered file are mostly rejected
    assert "WARN 2 raw_files_mostly_rejected" in quarantine_build.output


def test_every_line_read_is_staged_or_rejected(quarantine_build):
    read, staged, rejected = quarantine_build.query(
        "select sum(lines_read), sum(lines_staged), sum(lines_rejected) from source_file_loads"
    )[0]
    assert read == quarantine_build.lines_written
    assert read == staged + rejected


def test_columns_in_another_order_with_extra_columns_are_read_by_name(quarantine_build):
    rows = quarantine_build.query(
        "select customer_id, quantity, unit_price::double, invoiced_at::varchar "
        "from stg_online_retail__transaction_lines where source_file like '%/other_order.csv' order by 1"
    )
    assert rows == [
        ("14001", 2, 3.5, "2011-03-04 10:00:00"),
        ("14002", 6, 4.5, "2011-03-05 11:00:00"),
    ]


def test_day_first_dates_are_read_the_way_the_load_is_written(quarantine_build):
    rows = quarantine_build.query(
        "select customer_id, invoiced_at::varchar from stg_online_retail__transaction_lines "
        "where source_file like '%/uk_dates.csv' order by 1"
    )
    assert rows == [("14004", "2011-03-04 10:00:00"), ("14005", "2011-03-25 10:00:00")]


def test_one_order_customers_carry_the_population_gap_and_the_build_goes_on(
    quarantine_build, project
):
    """A one-order customer has no gap of its own: it carries the population's
    mean gap (all days between first and last purchases over all gaps; here
    the one repeat customer reordered the same day), never a null. (An all-null feature, which now needs data where nobody
    ordered twice, is dropped by the fit: test_segmentation_model.)"""
    gaps = quarantine_build.query(
        "select distinct mean_days_between_orders from customer_features "
        "where frequency = 1"
    )
    (population_gap,) = quarantine_build.query(
        "select round(sum(date_diff('second', first_purchase_at, last_purchase_at)) "
        "/ 86400.0 / sum(sale_invoice_count - 1), 2) "
        "from int_customers_aggregated_from_invoices"
    )[0]
    assert population_gap is not None
    assert gaps == [(population_gap,)]
    assert project.publication() is not None, "the good build published nothing"


# --- cases that stop the build ------------------------------------------------


def _latin1_file() -> bytes:
    text = csv_text(sale_rows(4, seed=9, first_customer=15001))
    return text.encode(
        "utf-8"
    ) + "560301,22001,CAFÉ SET,1,2011-03-04 10:00:00,1.5,15001.0,France\n".encode(
        "latin-1"
    )


def _cut_gzip_file() -> bytes:
    """A gzip export cut off mid-stream, as an interrupted copy leaves it."""
    whole = gzip.compress(csv_text(sale_rows(40, seed=11)).encode("utf-8"))
    return whole[: len(whole) // 2]


STOPS = {
    # case: (files, phrases the message must hold)
    "glob matches no file": ({}, ["which matches no file", "raw_transactions"]),
    "only empty files": (
        {"empty.csv": "", "header_only.csv": ",".join(HEADER) + "\n"},
        ["Nothing to segment", "hold no transaction line"],
    ),
    "missing required column": (
        {
            "no_country.csv": csv_text(
                [row[:-1] for row in sale_rows(6)], header=HEADER[:-1]
            )
        },
        ["no_country.csv", "lacks the column Country"],
    ),
    "another delimiter": (
        {"semicolons.csv": csv_text(sale_rows(6)).replace(",", ";")},
        ["semicolons.csv", "looks separated by ';'", "raw_csv_delimiter"],
    ),
    "bytes that are not UTF-8": (
        {"good.csv": csv_text(sale_rows(6)), "latin1.csv": _latin1_file()},
        ["latin1.csv, line", "is not valid UTF-8", "raw_encoding: latin-1"],
    ),
    "a cut-off gzip file": (
        {"good.csv": csv_text(sale_rows(6)), "cut.csv.gz": _cut_gzip_file()},
        ["cut.csv.gz is not a whole gzip file", "the file is cut off"],
    ),
    "no customer ids at all": (
        {"guests.csv": csv_text([[*row[:6], "", row[7]] for row in sale_rows(6)])},
        ["Nothing to segment", "0 of their 6 invoices have a CustomerID"],
    ),
    "one customer": (
        {"one.csv": csv_text(sale_rows(1, invoices=4))},
        ["Cannot segment 1 customer:", "segmentation.k_min is 3"],
    ),
    "fewer customers than the smallest k": (
        {"two.csv": csv_text(sale_rows(2, invoices=2))},
        ["Cannot segment 2 customers:", "lower segmentation.k_min"],
    ),
    "all customers identical": (
        {
            "identical.csv": csv_text(
                [
                    [
                        560400 + n,
                        "22001",
                        "LAMP",
                        2,
                        "2011-03-04 10:00:00",
                        "1.5",
                        f"{16001 + n}.0",
                        "France",
                    ]
                    for n in range(8)
                ]
            )
        },
        ["Cannot segment the 8 customers", "constant or null across them"],
    ),
}


@pytest.mark.parametrize("case", list(STOPS))
def test_bad_input_stops_with_a_clear_message_and_keeps_the_publication(
    project, quarantine_build, case
):
    files, phrases = STOPS[case]
    before = project.publication()
    run = project.build(files, args=STOP)
    assert_clear_stop(run, *phrases, "the last publication stays as it is", KEPT)
    assert project.publication() == before


def test_parquet_with_other_column_types_is_read(project, quarantine_build, tmp_path):
    """Quantity and UnitPrice as numbers, CustomerID as a float with NaN,
    InvoiceDate as a timestamp, a timestamp with time zone or text. A load
    of typed files alone is read with its types and takes no sample of
    the date formats."""
    rows = sale_rows(12, seed=5)
    source = tmp_path / "rows.csv"
    source.write_text(csv_text(rows))
    with duckdb.connect() as con:
        con.sql(
            f"create table t as select * from read_csv('{source}', all_varchar = true)"
        )
        con.sql(
            "copy (select InvoiceNo::integer as InvoiceNo, StockCode, Description, "
            "Quantity::double as Quantity, InvoiceDate::timestamp as InvoiceDate, "
            "UnitPrice::double as UnitPrice, "
            "case when CustomerID = '12001.0' then 'nan'::double else CustomerID::double end as CustomerID, "
            "Country from t where CustomerID < '12006') "
            f"to '{tmp_path / 'typed.parquet'}'"
        )
        con.sql(
            "copy (select InvoiceNo, StockCode, Description, Quantity::bigint as Quantity, "
            "(InvoiceDate || '+00')::timestamptz as InvoiceDate, UnitPrice::decimal(10, 2) as UnitPrice, "
            "CustomerID::double::bigint as CustomerID, Country from t where CustomerID >= '12006' "
            "and CustomerID < '12010') "
            f"to '{tmp_path / 'zoned.parquet'}'"
        )
        con.sql(
            f"copy (select * from t where CustomerID >= '12010') to '{tmp_path / 'text.parquet'}'"
        )
    files = {
        name: (tmp_path / name).read_bytes()
        for name in ["typed.parquet", "zoned.parquet", "text.parquet"]
    }
    parquet_glob = {"raw_transactions": f"{project.raw}/*.parquet"}

    def build_logging(build_files: dict) -> tuple[DbtRun, str]:
        build = project.build(build_files, parquet_glob, args=FEATURES)
        return build, project.build_log(build)

    # only typed files: read with their types, and the date formats' sample
    # over the lines as text (the sample_dates query) is not taken
    typed_only = {name: files[name] for name in ["typed.parquet", "zoned.parquet"]}
    run, logged = build_logging(typed_only)
    assert run.returncode == 0, run.output[-5000:]
    typed_rows = [row for row in rows if row[6] < "12010"]
    staged, rejected = run.query(
        "select count(*), (select count(*) from transaction_rejects) "
        "from stg_online_retail__transaction_lines"
    )[0]
    assert (staged, rejected) == (len(typed_rows), 0)
    assert {
        str(value)
        for (value,) in run.query(
            "select invoiced_at from stg_online_retail__transaction_lines"
        )
    } == {row[4] for row in typed_rows}
    assert "sample_dates" not in logged

    # with a file of text columns the load is read as text, dates ranked
    run, logged = build_logging(files)
    assert run.returncode == 0, run.output[-5000:]
    assert "sample_dates" in logged
    staged, customers, guests, rejected = run.query(
        "select count(*), count(distinct customer_id), count(*) - count(customer_id), "
        "(select count(*) from transaction_rejects) from stg_online_retail__transaction_lines"
    )[0]
    assert (staged, rejected) == (len(rows), 0)
    assert customers == 11  # 12001's NaN ids are guest lines
    assert guests == sum(1 for row in rows if row[6] == "12001.0")
    dates = {
        str(value)
        for (value,) in run.query(
            "select invoiced_at from stg_online_retail__transaction_lines"
        )
    }
    assert dates == {row[4] for row in rows}

    # a Parquet file without the required columns stops the build
    with duckdb.connect() as con:
        con.sql(
            f"copy (select 1 as InvoiceNo, 'x' as StockCode) to '{tmp_path / 'narrow.parquet'}'"
        )
    before = project.publication()
    run = project.build(
        {"narrow.parquet": (tmp_path / "narrow.parquet").read_bytes()},
        {"raw_transactions": f"{project.raw}/*.parquet"},
        args=STOP,
    )
    assert_clear_stop(run, "narrow.parquet lacks", "re-export the files", KEPT)
    assert project.publication() == before


AS_OF = dt.datetime(2011, 7, 1)


@pytest.fixture(scope="module")
def latin1_semicolon_build(project, quarantine_build) -> tuple[DbtRun, list]:
    """One build of a Latin-1 export separated by ';', with raw_encoding,
    raw_csv_delimiter and an as_of_date inside the data: each var is read
    on its own column of the result (description, fields, features)."""
    rows = sale_rows(12, seed=21, invoices=2) + [
        [
            560301,
            "22001",
            "CAFÉ SET",
            1,
            "2011-03-04 10:00:00",
            "1.5",
            "15001.0",
            "France",
        ]
    ]
    text = csv_text(rows)
    assert ";" not in text
    run = project.build(
        {"latin1_semicolons.csv": text.replace(",", ";").encode("latin-1")},
        {
            "raw_encoding": "latin-1",
            "raw_csv_delimiter": ";",
            "as_of_date": AS_OF.date().isoformat(),
        },
        args=FEATURES,
    )
    assert run.returncode == 0, run.output[-5000:]
    return run, rows


def test_latin1_export_is_read_with_raw_encoding_latin1(latin1_semicolon_build):
    run, _ = latin1_semicolon_build
    assert run.query(
        "select description from stg_online_retail__transaction_lines where invoice_no = '560301'"
    ) == [("CAFÉ SET",)]


def test_a_semicolon_export_is_read_and_features_stop_at_as_of_date(
    latin1_semicolon_build,
):
    """raw_csv_delimiter ';' reads a semicolon export whole, and an as_of_date
    inside the data keeps later invoices out: recency and tenure count the
    days from each customer's last and first invoice before it."""
    run, rows = latin1_semicolon_build
    (staged, rejected) = run.query(
        "select count(*), (select count(*) from transaction_rejects) "
        "from stg_online_retail__transaction_lines"
    )[0]
    assert (staged, rejected) == (len(rows), 0)
    before: dict[str, list[dt.datetime]] = {}
    for row in rows:
        invoiced = dt.datetime.strptime(row[4], "%Y-%m-%d %H:%M:%S")
        if invoiced < AS_OF:
            before.setdefault(row[6].removesuffix(".0"), []).append(invoiced)
    customers = len({row[6] for row in rows})
    assert 3 <= len(before) < customers  # some customers bought only later
    expected = {
        customer: (
            (AS_OF.date() - max(days).date()).days,
            (AS_OF.date() - min(days).date()).days,
            AS_OF.date(),
        )
        for customer, days in before.items()
    }
    got = {
        customer: (recency, tenure, day)
        for customer, recency, tenure, day in run.query(
            "select customer_id, recency_days, tenure_days, as_of_date "
            "from customer_features"
        )
    }
    assert got == expected


# --- settings ------------------------------------------------------------------


def test_a_bad_setting_stops_before_any_table_is_touched(project, quarantine_build):
    before = project.publication()
    run = project.build(
        {"good.csv": csv_text(sale_rows(6))},
        {"segmentation": {**SMALL_SEGMENTATION, "k_min": 5, "k_max": 4}},
    )
    assert_clear_stop(
        run,
        "Invalid setting: segmentation.k_min: got 5",
        "segmentation.k_max (4)",
        "before any table is touched",
    )
    assert "OK created" not in run.output and "START sql" not in run.output
    assert project.publication() == before
