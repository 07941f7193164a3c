"""New raw files are loaded without reading the history again, and a full
refresh gives the same tables."""

from __future__ import annotations

import shutil

import pytest
from pipeline import dbt, generate_data

LINES = (
    "select source_file, source_line_number, reject_reason, invoice_no, quantity "
    "from base_online_retail__lines_read order by 1, 2"
)
FEATURES = "select * from customer_features order by customer_id"
LOADS = "select * from source_file_loads order by source_file"


@pytest.fixture(scope="module")
def loads(tmp_path_factory):
    base = tmp_path_factory.mktemp("incremental")
    generated = generate_data(base, customers=400, seed=3)
    days = sorted(generated.glob("*.csv.gz"))
    raw = base / "delivered"
    raw.mkdir()
    half = len(days) // 2
    for day in days[:half]:
        shutil.copy(day, raw / day.name)
    settings = {
        "raw_transactions": f"{raw}/*.csv.gz",
        "segmentation": {"algorithms": ["kmeans"], "bootstrap_samples": 0, "k_max": 5},
    }
    first = dbt("build", base / "run", settings)
    assert first.returncode == 0, first.output[-5000:]
    first_loads = first.query(LOADS)

    # the next days arrive, one day is delivered again under another name,
    # and an already loaded file changes on disk: it must not be read again
    for day in days[half:]:
        shutil.copy(day, raw / day.name)
    redelivered = raw / days[1].name.replace(".csv.gz", "_resent.csv.gz")
    shutil.copy(days[1], redelivered)
    original = (raw / days[0].name).read_bytes()
    shutil.copy(days[-1], raw / days[0].name)
    second = dbt("build", base / "run", {**settings, "segmentation_mode": "score"})
    assert second.returncode == 0, second.output[-5000:]
    incremental = {
        "lines": second.query(LINES),
        "features": second.query(FEATURES),
        "loads": second.query(LOADS),
    }
    (raw / days[0].name).write_bytes(original)
    full = dbt(
        "build",
        base / "run",
        {**settings, "segmentation_mode": "score"},
        args=["--full-refresh"],
    )
    assert full.returncode == 0, full.output[-5000:]
    return {
        "first_loads": first_loads,
        "incremental": incremental,
        "full": {
            "lines": full.query(LINES),
            "features": full.query(FEATURES),
            "loads": full.query(LOADS),
        },
        "redelivered": str(redelivered),
        "changed": str(raw / days[0].name),
        "days": days,
    }


def test_a_loaded_file_is_not_read_again(loads):
    first = {row[0]: row for row in loads["first_loads"]}
    later = {row[0]: row for row in loads["incremental"]["loads"]}
    # the file that changed on disk keeps the accounting of its first load
    assert later[loads["changed"]] == first[loads["changed"]]
    assert set(first) < set(later)


def test_a_redelivered_file_is_all_duplicates(loads):
    row = {r[0]: r for r in loads["incremental"]["loads"]}[loads["redelivered"]]
    _, lines_read, staged, rejected, duplicate, _ = row
    assert lines_read > 0 and staged == 0 and rejected == duplicate == lines_read


def test_full_refresh_gives_the_same_tables(loads):
    assert loads["incremental"]["lines"] == loads["full"]["lines"]
    assert loads["incremental"]["loads"] == loads["full"]["loads"]
    assert loads["incremental"]["features"] == loads["full"]["features"]
