"""Staging reads a warehouse table (var transactions_relation) as it reads files.

The raw files of the shared small build are loaded, line by line, into a
table whose columns are named differently (mapped back with the var
transactions_columns) in a fresh warehouse, and the project is built from
that table instead of the files. Every row of the table is accounted for
(read = staged + rejected), and the build agrees with the file build of the
same lines: the same reject reasons per count, except the reasons only a file
can have (a line that cannot be split into fields never reaches a table),
the same staged lines and the same customer features.

The checks read the load, its accounting, staging and the customer
features, so the build selects just those models and what they are made
from, with the data tests on them (as test_incremental_loads.py does): the
clustering downstream reads the features only, whatever their source.
"""

from __future__ import annotations

import csv
import gzip

import duckdb
import pytest
from pipeline import dbt, select_with_ancestors

# the Online Retail name -> the table's column name
RENAMED = {
    "InvoiceNo": "order_number",
    "StockCode": "sku",
    "Description": "product_name",
    "Quantity": "qty",
    "InvoiceDate": "ordered_at",
    "UnitPrice": "price",
    "CustomerID": "customer",
    # Country keeps its name, in another case: found without a mapping
}
# reasons a line of a file can have and a row of a table cannot
FILE_ONLY_REASONS = ("blank_line", "malformed_quoting", "wrong_field_count")
SELECTED = select_with_ancestors("source_file_loads", "customer_features")
STAGED_FIELDS = (
    "invoice_no, stock_code, description, quantity, unit_price, invoiced_at,"
    " customer_id, country"
)


def _table_rows(raw_folder) -> list[tuple]:
    """Each data line of the raw files that splits into the header's eight
    fields (Python's csv module, strict quoting, no stray quote), in file order."""
    rows = []
    for path in sorted(raw_folder.glob("*.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            lines = handle.read().split("\n")
        header = next(csv.reader([lines[0].lstrip("\ufeff")]))
        assert [name.strip() for name in header] == list(RENAMED) + ["Country"]
        for line in lines[1:]:
            if not line.strip():
                continue
            try:
                fields = next(csv.reader([line.rstrip("\r")], strict=True))
            except csv.Error:
                continue
            # a quote inside a field must come from a quoted field ("" inside
            # quotes): Python reads `GLASS "CHEST` as text, the project
            # quarantines it as malformed_quoting
            stray_quote = any(
                '"' in field and '"' + field.replace('"', '""') + '"' not in line
                for field in fields
            )
            if len(fields) == 8 and not stray_quote:
                rows.append(tuple(fields))
    return rows


@pytest.fixture(scope="module")
def table_build(small_build, tmp_path_factory):
    folder = tmp_path_factory.mktemp("transactions_relation")
    rows = _table_rows(small_build.raw)
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        con.execute("create schema raw_input")
        columns = ", ".join(f"{name} varchar" for name in RENAMED.values())
        con.execute(f"create table raw_input.orders ({columns}, COUNTRY varchar)")
        con.executemany(
            "insert into raw_input.orders values (?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    variables = {
        **small_build.variables,
        "transactions_relation": "raw_input.orders",
        "transactions_columns": RENAMED,
    }
    run = dbt("build", folder, variables, args=SELECTED)
    assert run.returncode == 0, run.output[-5000:]
    return run, len(rows)


def test_every_row_of_the_table_is_staged_or_rejected(table_build):
    run, table_rows = table_build
    assert table_rows > 10_000
    [(files, lines_read, staged, rejected)] = run.query(
        "select count(*), sum(lines_read), sum(lines_staged), sum(lines_rejected)"
        " from source_file_loads"
    )
    assert (files, lines_read) == (1, table_rows)
    assert staged + rejected == lines_read
    [(read_by,)] = run.query(
        "select distinct read_by from base_online_retail__lines_read"
    )
    assert read_by == "warehouse_table"


def test_the_table_build_agrees_with_the_file_build(table_build, small_build):
    run, _ = table_build
    reasons = (
        "select coalesce(reject_reason, 'staged'), count(*)"
        " from base_online_retail__lines_read group by all order by 1"
    )
    from_files = dict(small_build.query(reasons))
    from_table = dict(run.query(reasons))
    assert any(from_files.get(reason) for reason in FILE_ONLY_REASONS), (
        "the generated files should hold lines only a file can have"
    )
    for reason in FILE_ONLY_REASONS:
        from_files.pop(reason, None)
    assert from_table == from_files
    assert from_table["staged"] > 0 and from_table.get("duplicate_line", 0) > 0

    staged = (
        f"select {STAGED_FIELDS}, count(*) from stg_online_retail__transaction_lines"
        " group by all"
    )
    assert sorted(run.query(staged), key=repr) == sorted(
        small_build.query(staged), key=repr
    )
    features = "select * from customer_features order by customer_id"
    table_features = run.query(features)
    assert len(table_features) > 100
    assert table_features == small_build.query(features)
