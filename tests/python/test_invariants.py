"""Invariants of `dbt build`, checked on random small transaction sets.

Hypothesis writes a few customers' invoices (sales, cancellations with
returns, non-product and zero-price lines, guest lines), some bad lines and
some exact duplicates into one or two CSV files, runs `dbt build` on them,
and checks what must hold for any input:

- lines read = lines staged + lines rejected, and every line written is read;
- each customer's monetary is the sum of its valid product sales net of its
  product returns, computed here independently from the lines written;
- recency is never negative;
- every featurized customer has exactly one segment;
- segment customer shares sum to 1.

A build takes ten seconds or more, so one build checks several sets at once:
each example is SETS_PER_BUILD independent sets (their own customers,
invoice numbers and files), the invariants checked per set. There are two
examples, derandomized (the same ones on every run) and not shrunk: the
first is Hypothesis's simplest, the second random. Each builds only the models
the invariants read and what they are made from, with the data tests on
them (the monitoring marts are left out; the shared builds have them). The same invariants but
monetary (which needs the rules applied to known lines) are checked on the
session's shared builds too: the generated data with its planted dirt, the
small set and the real data (conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pipeline import dbt, select_with_ancestors, tail
from test_bad_input import csv_text

# The codes of seeds/non_product_stock_codes.csv the generator uses.
NON_PRODUCT_CODES = {"POST", "M", "D"}
NON_PRODUCT_PREFIXES = ("gift_",)
PRODUCT_CODES = ["22001", "22002", "85123A"]
PRICES = ["0", "0.55", "1.25", "2.95", "10.5"]
BAD_LINES = [
    "579999,22001,LAMP,abc,2011-03-04 10:00:00,1.5,17999.0,France",
    "",
    "579998,22001,LAMP,1,2011-03-04 10:00:00,1.5",
    "579997,22001,LAMP,1,2099-03-04 10:00:00,1.5,17999.0,France",
    '579996,22001,"LAMP "X",1,2011-03-04 10:00:00,1.5,17999.0,France',
]
SEGMENTATION = {
    "algorithms": ["kmeans"],
    "k_min": 2,
    "k_max": 3,
    "bootstrap_samples": 0,
    "sample_size": 50,
}

# the models assert_invariants reads, their ancestors and their tests
SELECTED = select_with_ancestors(
    "source_file_loads", "customer_segments", "segment_profiles"
)


# independent sets in one build; set i has customers 17001 + 10 i .. + 5 and
# invoice numbers from 580001 + 100 i (at most 20), so the sets never share
# a customer, an invoice or a valid line
SETS_PER_BUILD = 5


@st.composite
def transaction_sets(draw, first_customer: int = 17001, first_invoice: int = 580000):
    """Rows of valid lines, bad lines, and how they are split into files."""
    rows: list[list[str]] = []
    invoice = first_invoice
    for number in range(draw(st.integers(3, 6))):
        customer = f"{first_customer + number}.0"
        for position in range(draw(st.integers(1, 3))):
            invoice += 1
            cancelled = position > 0 and draw(st.booleans())
            when = dt.datetime(2011, 1, 1, 8) + dt.timedelta(
                days=draw(st.integers(0, 330)), hours=draw(st.integers(0, 10))
            )
            if position == 0:
                # every customer buys something, each a different amount
                rows.append(
                    [
                        str(invoice),
                        "22001",
                        "LAMP",
                        str(number + 1),
                        f"{when:%Y-%m-%d %H:%M:%S}",
                        "1.25",
                        customer,
                        "France",
                    ]
                )
            for _ in range(draw(st.integers(1, 3))):
                code = draw(
                    st.sampled_from(PRODUCT_CODES + ["POST", "M", "D", "gift_0001"])
                )
                quantity = draw(st.integers(1, 24)) * (-1 if cancelled else 1)
                rows.append(
                    [
                        ("C" if cancelled else "") + str(invoice),
                        code,
                        f"ITEM {code}",
                        str(quantity),
                        f"{when:%Y-%m-%d %H:%M:%S}",
                        draw(st.sampled_from(PRICES)),
                        customer,
                        "France",
                    ]
                )
    for _ in range(draw(st.integers(0, 2))):
        invoice += 1
        rows.append(
            [
                str(invoice),
                "22002",
                "GUEST ITEM",
                "2",
                "2011-06-01 12:00:00",
                "2.95",
                "",
                "France",
            ]
        )
    duplicates = draw(st.lists(st.integers(0, len(rows) - 1), max_size=3))
    rows.extend(list(rows[i]) for i in duplicates)
    return {
        "rows": rows,
        "bad_lines": draw(st.lists(st.sampled_from(BAD_LINES), max_size=3)),
        "split": draw(st.integers(0, len(rows))),
    }


def expected_monetary(rows: list[list[str]]) -> dict[str, Decimal]:
    """Net product spend per featurized customer, by the models' definitions.

    Exact repeats are dropped first (the later copies are quarantined as
    duplicate_line). An invoice is a sale when it is not a cancellation and
    has product sales; monetary is the customer's sales on sale invoices less
    the product returns (negative quantities) on all of its invoices.
    """
    seen: set[tuple[str, ...]] = set()
    invoices: dict[str, dict] = defaultdict(
        lambda: {"sales": Decimal(0), "returns": Decimal(0)}
    )
    for row in rows:
        key = tuple(row)
        if key in seen:
            continue
        seen.add(key)
        invoice_no, code, _, quantity, _, price, customer, _ = row
        is_product = code not in NON_PRODUCT_CODES and not code.startswith(
            NON_PRODUCT_PREFIXES
        )
        amount = int(quantity) * Decimal(price)
        invoice = invoices[invoice_no]
        invoice["customer"] = customer.removesuffix(".0") or None
        invoice["cancelled"] = invoice_no.startswith("C")
        if (
            is_product
            and not invoice_no.startswith("C")
            and int(quantity) > 0
            and Decimal(price) > 0
        ):
            invoice["sales"] += amount
        if is_product and int(quantity) < 0:
            invoice["returns"] -= amount
    gross: dict[str, Decimal] = defaultdict(Decimal)
    returns: dict[str, Decimal] = defaultdict(Decimal)
    buyers: set[str] = set()
    for invoice in invoices.values():
        customer = invoice["customer"]
        if customer is None:
            continue
        returns[customer] += invoice["returns"]
        if not invoice["cancelled"] and invoice["sales"] > 0:
            gross[customer] += invoice["sales"]
            buyers.add(customer)
    return {customer: gross[customer] - returns[customer] for customer in buyers}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("invariants")


@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sets=st.tuples(
        *(
            transaction_sets(17001 + 10 * number, 580000 + 100 * number)
            for number in range(SETS_PER_BUILD)
        )
    )
)
def test_build_invariants_hold_on_random_transactions(folder: Path, sets: tuple):
    raw = folder / "raw"
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir()
    written = {}
    for number, data in enumerate(sets):
        rows, split = data["rows"], data["split"]
        (raw / f"set{number}_part1.csv").write_text(
            csv_text(rows[:split]) + "".join(line + "\n" for line in data["bad_lines"])
        )
        (raw / f"set{number}_part2.csv").write_text(csv_text(rows[split:]))
        written[f"set{number}_"] = len(rows) + len(data["bad_lines"])

    run = dbt(
        "build",
        folder / "work",
        {
            "raw_transactions": f"{raw}/*.csv",
            "segmentation": SEGMENTATION,
            "segmentation_mode": "retrain",
        },
        # each example rewrites the same file names: reload them all
        args=["--full-refresh", *SELECTED],
        env={"BI_DUCKDB_PATH": str(folder / "published" / "segments.duckdb")},
    )
    assert run.returncode == 0, tail(run.output)
    assert_invariants(run, sum(written.values()))
    # every line of each set's two files accounted for, set by set
    per_set = run.query(
        "select regexp_extract(source_file, '(set[0-9]+_)part', 1), "
        "sum(lines_read), sum(lines_staged), sum(lines_rejected) "
        "from source_file_loads group by 1"
    )
    assert {name: read for name, read, _, _ in per_set} == written
    for _, read, staged, rejected in per_set:
        assert read == staged + rejected

    monetary = {
        customer: Decimal(str(value))
        for customer, value in run.query(
            "select customer_id, monetary from customer_features"
        )
    }
    expected = {}
    for data in sets:
        expected.update(expected_monetary(data["rows"]))
    assert monetary.keys() == expected.keys()
    for customer, value in expected.items():
        assert abs(monetary[customer] - value) <= Decimal("0.005"), (
            customer,
            monetary[customer],
            value,
        )


def assert_invariants(run, written: int) -> None:
    """What holds for any input: every line accounted for, no negative
    recency, one segment per featurized customer, shares summing to 1."""
    read, staged, rejected = run.query(
        "select sum(lines_read), sum(lines_staged), sum(lines_rejected) from source_file_loads"
    )[0]
    assert read == written
    assert read == staged + rejected

    (min_recency,) = run.query("select min(recency_days) from customer_features")[0]
    assert min_recency >= 0

    featurized, segmented, distinct = run.query(
        "select (select count(*) from customer_features), count(*), count(distinct customer_id) "
        "from customer_segments"
    )[0]
    assert featurized == segmented == distinct > 0

    (shares,) = run.query("select sum(customer_share) from segment_profiles")[0]
    assert shares == pytest.approx(1.0)


# the lines of the real data set (../shared/data/README.md)
REAL_LINES = 541_909


@pytest.mark.parametrize("name", ["generated_build", "small_build", "real_build"])
def test_build_invariants_hold_on_the_shared_builds(request, name: str):
    build = request.getfixturevalue(name)
    if name == "real_build":
        written = REAL_LINES
    else:
        manifest = json.loads((build.ground_truth / "manifest.json").read_text())
        written = manifest["lines"]["total"]
    assert_invariants(build, written)
