"""Tests of the synthetic data generator ``python_jobs/generate_data.py``.

The generator runs as a command (as ``make data`` runs it) on a small
population, and its files are read back with the ``csv`` module to check the
format, the manifest's line accounting and the ground truth.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from pipeline import run_command

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "python_jobs" / "generate_data.py"
HEADER = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
)
PERSONAS = {
    "loyal_high_spender",
    "bulk_wholesaler",
    "one_time_buyer",
    "lapsed_regular",
    "new_recent",
    "weekend_gift_shopper",
}
NON_PRODUCT = {"POST", "C2", "DOT", "M", "BANK CHARGES", "D"}
CUSTOMERS = 300
SEED = 7


def run_generator(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the command; return the finished process."""
    command = [sys.executable, str(SCRIPT), "--out", str(out), "-q", *extra]
    return run_command(command, timeout=300)


def generate(out: Path, *extra: str) -> Path:
    """Generate into ``out`` and fail the test when the command fails."""
    done = run_generator(out, "--customers", str(CUSTOMERS), *extra)
    assert done.returncode == 0, done.stderr
    return out


def folder_digest(folder: Path) -> str:
    """SHA-256 over the names and bytes of every file in a folder."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def render(fields: list[str]) -> str:
    """One CSV line with the standard minimal quoting (no line end)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue()


def is_well_formed(raw: str, fields: list[str]) -> bool:
    """Whether a physical line is a valid eight-field, standard-quoted row."""
    if len(fields) != 8 or render(fields) != raw:
        return False
    try:
        int(fields[3])
        float(fields[5])
        dt.datetime.strptime(fields[4], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return True


def read_lines(folder: Path) -> dict[str, list[tuple[str, list[str]]]]:
    """Physical data lines of each file: ``(raw text, parsed fields)``."""
    files = {}
    for path in sorted(folder.glob("*.csv.gz")):
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        assert text.endswith("\n"), path.name
        physical = text[:-1].split("\n")
        assert physical[0] == HEADER, path.name
        rows = []
        for raw in physical[1:]:
            parsed = next(csv.reader([raw]))
            rows.append((raw, parsed))
        files[path.name] = rows
    return files


@pytest.fixture(scope="module")
def run_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw folder of the reference run."""
    return generate(tmp_path_factory.mktemp("a") / "raw", "--seed", str(SEED))


@pytest.fixture(scope="module")
def manifest(run_a: Path) -> dict:
    """Manifest of the reference run."""
    return json.loads((run_a.parent / "ground_truth" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def lines(run_a: Path) -> dict[str, list[tuple[str, list[str]]]]:
    """Parsed lines of the reference run."""
    return read_lines(run_a)


def test_same_seed_gives_identical_bytes(run_a: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "b" / "raw", "--seed", str(SEED), "--workers", "1")
    other = generate(tmp_path / "c" / "raw", "--seed", str(SEED + 1))
    assert folder_digest(again) == folder_digest(run_a)
    truth = Path("ground_truth") / "customer_personas.csv"
    assert (again.parent / truth).read_bytes() == (run_a.parent / truth).read_bytes()
    assert folder_digest(other) != folder_digest(run_a)


def test_one_gzip_csv_per_trading_day_with_the_schema(
    run_a: Path, lines: dict, manifest: dict
) -> None:
    names = sorted(p.name for p in run_a.iterdir())
    assert names == sorted(lines) and len(names) == manifest["files"] > 300
    days = [dt.date.fromisoformat(n.removesuffix(".csv.gz")) for n in names]
    assert days[0] == dt.date(2010, 12, 1) and days[-1] == dt.date(2011, 12, 9)
    assert dt.date(2010, 12, 25) not in days  # closed over Christmas
    invoice = re.compile(r"C?\d{6}")
    customer = re.compile(r"(\d{5}\.0)?")
    normal = 0
    for rows in lines.values():
        previous = 0
        for raw, fields in rows:
            if not is_well_formed(raw, fields):
                continue
            normal += 1
            assert invoice.fullmatch(fields[0]), raw
            assert customer.fullmatch(fields[6]), raw
            assert fields[7], raw
            number = int(fields[0].lstrip("C"))
            assert number >= previous, raw  # invoice numbers follow time
            previous = number
    assert normal == manifest["lines"]["well_formed"]


def test_manifest_counts_match_the_files(lines: dict, manifest: dict) -> None:
    counted = Counter()
    malformed = set()
    for name, rows in lines.items():
        seen = set()
        for number, (raw, fields) in enumerate(rows, start=2):
            counted["total"] += 1
            if not is_well_formed(raw, fields):
                malformed.add((name, number))
                continue
            counted["cancellation"] += fields[0].startswith("C")
            counted["no_customer"] += fields[6] == ""
            counted["zero_price"] += float(fields[5]) == 0
            counted["non_product"] += fields[1] in NON_PRODUCT
            counted["duplicate"] += raw in seen
            seen.add(raw)
    expected = manifest["lines"]
    for key in ("total", "cancellation", "no_customer", "zero_price", "non_product"):
        assert counted[key] == expected[key], key
    assert counted["duplicate"] == expected["duplicate"] > 0
    total = counted["total"]
    assert 0.15 < expected["no_customer"] / total < 0.25
    assert 0.005 < expected["cancellation"] / total < 0.03
    listed = {(m["file"], m["line"]) for m in manifest["malformed_lines"]}
    assert malformed == listed
    assert expected["malformed"]["total"] == len(listed) >= 4
    assert set(Counter(m["kind"] for m in manifest["malformed_lines"])) == {
        "missing_field",
        "bad_quantity",
        "bad_date",
        "broken_quoting",
    }


def test_malformed_lines_sit_inside_files_on_one_line(
    lines: dict, manifest: dict
) -> None:
    for item in manifest["malformed_lines"]:
        rows = lines[item["file"]]
        index = item["line"] - 2
        assert 0 < index < len(rows) - 1  # neither the first nor the last line
        raw, fields = rows[index]
        kind = item["kind"]
        if kind == "missing_field":
            assert len(fields) == 7
        elif kind == "bad_quantity":
            assert re.fullmatch(r"\d+x", fields[3])
        elif kind == "bad_date":
            with pytest.raises(ValueError):
                dt.datetime.strptime(fields[4], "%Y-%m-%d %H:%M:%S")
        else:
            assert kind == "broken_quoting"
            assert raw.count('"') == 1 and len(fields) == 8


def test_ground_truth_covers_every_customer_outside_raw(
    run_a: Path, lines: dict, manifest: dict
) -> None:
    truth = run_a.parent / "ground_truth" / "customer_personas.csv"
    assert run_a not in truth.resolve().parents
    assert all(p.name.endswith(".csv.gz") for p in run_a.iterdir())
    with truth.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["customer_id", "persona"]
    persona = dict(rows[1:])
    assert len(persona) == len(rows) - 1 == CUSTOMERS  # one persona per id
    assert all(re.fullmatch(r"\d{5}", cid) for cid in persona)
    assert set(persona.values()) == PERSONAS
    assert Counter(persona.values()) == manifest["personas"]
    in_data = {
        fields[6].removesuffix(".0")
        for rows_of_file in lines.values()
        for _, fields in rows_of_file
        if len(fields) == 8 and fields[6]
    }
    assert in_data and in_data <= set(persona)


def test_parquet_files_hold_the_same_rows(run_a: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    raw = generate(tmp_path / "raw", "--seed", str(SEED), "--format", "parquet")
    meta = json.loads((tmp_path / "ground_truth" / "manifest.json").read_text())
    files = sorted(raw.glob("*.parquet"))
    assert len(files) == meta["files"]
    table = pq.read_table(files[len(files) // 2])
    assert table.column_names == HEADER.split(",")
    total = sum(pq.read_metadata(f).num_rows for f in files)
    reference = json.loads(
        (run_a.parent / "ground_truth" / "manifest.json").read_text()
    )
    assert total == meta["lines"]["total"] == reference["lines"]["total"]


def test_refuses_to_write_into_a_folder_with_files(run_a: Path) -> None:
    before = folder_digest(run_a)
    done = run_generator(run_a, "--customers", "50")
    assert done.returncode == 2
    assert "--overwrite" in done.stderr
    assert folder_digest(run_a) == before


def test_overwrite_replaces_only_data_files(tmp_path: Path) -> None:
    raw = generate(tmp_path / "raw", "--seed", "3")
    keep = raw / "README.txt"
    keep.write_text("not data")
    generate(raw, "--seed", "4", "--overwrite", "--format", "parquet")
    assert keep.read_text() == "not data"
    assert not list(raw.glob("*.csv.gz")) and list(raw.glob("*.parquet"))


def test_planted_personas_are_recoverable(run_a: Path) -> None:
    """K-Means on robust-scaled log features finds the personas (ARI >= 0.8)."""
    duckdb = pytest.importorskip("duckdb")
    cluster = pytest.importorskip("sklearn.cluster")
    metrics = pytest.importorskip("sklearn.metrics")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    con = duckdb.connect()
    con.execute(
        f"""
        create table l as
        select InvoiceNo as inv, StockCode as code,
               try_cast(Quantity as integer) as q,
               try_cast(UnitPrice as double) as p,
               try_strptime(InvoiceDate, '%Y-%m-%d %H:%M:%S') as ts,
               replace(CustomerID, '.0', '') as cid
        from read_csv('{run_a}/*.csv.gz', all_varchar = true, header = true,
                      quote = '"', escape = '"', ignore_errors = true)
        where CustomerID is not null
        """
    )
    features = con.execute(
        """
        with clean as (
            select *, inv like 'C%' as cancel, code in
              ('POST', 'C2', 'DOT', 'M', 'BANK CHARGES', 'D') as extra
            from l where q is not null and p is not null and ts is not null
        ),
        orders as (
            select cid, inv, min(ts) as ts, sum(q * p) as value, sum(q) as items
            from clean where not cancel and not extra group by cid, inv
        ),
        per_customer as (
            select cid,
                   -sum(q * p) filter (where q < 0 and not extra) as returned,
                   count(distinct code) filter (where not cancel and not extra)
                     as products
            from clean group by cid
        )
        select o.cid, t.persona,
               date '2011-12-10' - max(o.ts)::date as recency,
               count(*) as frequency,
               sum(o.value) - coalesce(any_value(c.returned), 0) as monetary,
               avg(o.value) as order_value,
               avg(o.items) as items,
               any_value(c.products) as products,
               coalesce(any_value(c.returned), 0) / sum(o.value) as return_rate,
               coalesce(date_diff('day', min(o.ts), max(o.ts))
                        / nullif(count(*) - 1, 0), 0) as days_between,
               avg((dayofweek(o.ts) in (0, 6))::int) as weekend,
               date '2011-12-10' - min(o.ts)::date as tenure
        from orders o
        join per_customer c using (cid)
        join read_csv(?, all_varchar = true) t on t.customer_id = o.cid
        group by o.cid, t.persona
        """,
        [str(run_a.parent / "ground_truth" / "customer_personas.csv")],
    ).fetchall()
    labels = [row[1] for row in features]
    values = np.array([row[2:] for row in features], dtype=float)
    scaled = preprocessing.RobustScaler().fit_transform(np.log1p(np.abs(values)))
    found = cluster.KMeans(6, n_init=10, random_state=0).fit_predict(scaled)
    assert len(labels) >= CUSTOMERS * 0.95
    assert metrics.adjusted_rand_score(labels, found) >= 0.8
