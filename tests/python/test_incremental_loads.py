"""New raw files are loaded without reading the history again, a file whose
content changed is loaded again with its earlier lines replaced, and a full
refresh gives the same tables.

The checks read the raw load, its accounting and the customer features, so
the builds select just those models and what they are made from (with the
data tests on them): the clustering downstream is not what is tested here.
All three builds take the same vars, so dbt's partial parsing holds.
"""

from __future__ import annotations

import gzip
import shutil

import pytest
from pipeline import dbt, generate_data, select_with_ancestors

LINES = (
    "select source_file, source_line_number, reject_reason, invoice_no, quantity "
    "from base_online_retail__lines_read order by 1, 2"
)
FEATURES = "select * from customer_features order by customer_id"
# what a load found in each file; the load times differ between runs
LOADS = (
    "select source_file, lines_read, lines_staged, lines_rejected, lines_duplicate, "
    "is_empty, first_line_number, last_line_number, read_by, file_fingerprint "
    "from source_file_loads order by source_file"
)
SELECTED = select_with_ancestors("source_file_loads", "customer_features")
LOAD_TIMES = (
    "select source_file, times_loaded, first_loaded_at, loaded_at "
    "from source_file_loads order by source_file"
)


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
    settings = {"raw_transactions": f"{raw}/*.csv.gz"}
    first = dbt("build", base / "run", settings, args=SELECTED)
    assert first.returncode == 0, first.output[-5000:]
    first_loads = first.query(LOADS)
    first_times = first.query(LOAD_TIMES)

    # the next days arrive, one day is delivered again under another name,
    # and an already loaded file is re-exported with other lines: it must be
    # read again and its earlier lines replaced
    for day in days[half:]:
        shutil.copy(day, raw / day.name)
    redelivered = raw / days[1].name.replace(".csv.gz", "_resent.csv.gz")
    shutil.copy(days[1], redelivered)
    shutil.copy(days[-1], raw / days[0].name)
    # a new file the survey sends to the native reader (the header in order,
    # no malformed quoting) whose one line that reader rejects (a field too
    # many): the write must read it again line-exactly, on an incremental
    # run as on a first one
    header, first_line = (
        gzip.decompress(days[-1].read_bytes()).decode().splitlines()[:2]
    )
    misread = raw / "late_correction.csv.gz"
    misread.write_bytes(gzip.compress(f"{header}\n{first_line},EXTRA\n".encode()))
    second = dbt("build", base / "run", settings, args=SELECTED)
    assert second.returncode == 0, second.output[-5000:]
    incremental = {
        "lines": second.query(LINES),
        "features": second.query(FEATURES),
        "loads": second.query(LOADS),
        "times": second.query(LOAD_TIMES),
        "misread_lines": second.query(
            "select source_line_number, reject_reason from base_online_retail__lines_read "
            f"where source_file = '{misread}'"
        ),
        "output": second.output,
        "changed_lines": second.query(
            "select count(*), count(distinct loaded_at) from base_online_retail__lines_parsed "
            f"where source_file = '{raw / days[0].name}'"
        )[0],
    }
    full = dbt("build", base / "run", settings, args=[*SELECTED, "--full-refresh"])
    assert full.returncode == 0, full.output[-5000:]
    return {
        "first_loads": first_loads,
        "first_times": first_times,
        "incremental": incremental,
        "full": {
            "lines": full.query(LINES),
            "features": full.query(FEATURES),
            "loads": full.query(LOADS),
        },
        "redelivered": str(redelivered),
        "misread": str(misread),
        "changed": str(raw / days[0].name),
        "days": days,
    }


def test_an_unchanged_file_is_not_read_again(loads):
    first = {row[0]: row for row in loads["first_loads"]}
    later = {row[0]: row for row in loads["incremental"]["loads"]}
    first_times = {row[0]: row for row in loads["first_times"]}
    later_times = {row[0]: row for row in loads["incremental"]["times"]}
    assert set(first) < set(later)
    for source_file, row in first.items():
        if source_file == loads["changed"]:
            continue
        assert later[source_file] == row
        # same load: loaded once, at the first run
        assert later_times[source_file] == first_times[source_file]
        assert later_times[source_file][1] == 1


def test_a_changed_file_is_loaded_again_and_its_lines_replaced(loads):
    changed = loads["changed"]
    before = {row[0]: row for row in loads["first_loads"]}[changed]
    after = {row[0]: row for row in loads["incremental"]["loads"]}[changed]
    times = {row[0]: row for row in loads["incremental"]["times"]}[changed]
    first_times = {row[0]: row for row in loads["first_times"]}[changed]
    new_lines = len(gzip.decompress(loads["days"][-1].read_bytes()).splitlines()) - 1
    assert before[1] != new_lines  # the re-export holds other lines
    # the accounting is the new content's, and the reload is recorded
    assert after[1] == new_lines == after[2] + after[3]
    assert after[9] != before[9]  # fingerprint
    _, times_loaded, first_loaded_at, loaded_at = times
    assert times_loaded == 2
    assert first_loaded_at == first_times[2] and loaded_at > first_times[3]
    # the earlier lines are gone: one load's lines, as many as the file has
    assert loads["incremental"]["changed_lines"] == (new_lines, 1)


def test_a_redelivered_file_is_all_duplicates(loads):
    row = {r[0]: r for r in loads["incremental"]["loads"]}[loads["redelivered"]]
    lines_read, staged, rejected, duplicate = row[1:5]
    assert lines_read > 0 and staged == 0 and rejected == duplicate == lines_read


def test_full_refresh_gives_the_same_tables(loads):
    assert loads["incremental"]["lines"] == loads["full"]["lines"]
    assert loads["incremental"]["loads"] == loads["full"]["loads"]
    assert loads["incremental"]["features"] == loads["full"]["features"]


def test_a_new_file_the_native_reader_misses_is_read_line_exactly(loads):
    row = {r[0]: r for r in loads["incremental"]["loads"]}[loads["misread"]]
    lines_read, staged, rejected = row[1:4]
    read_by = row[8]
    assert (lines_read, staged, rejected, read_by) == (1, 0, 1, "line_exact_reader")
    assert loads["incremental"]["misread_lines"] == [(2, "wrong_field_count")]
    assert (
        "Read by the line-exact reader (the native reader could not account for every line)"
        in loads["incremental"]["output"]
    )
