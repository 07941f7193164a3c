"""raw_gzip_problem: a cut-off or corrupt .gz export is named, a whole one is not."""

from __future__ import annotations

import gzip
import os
import zlib

import duckdb
import pytest
from raw_files import gzip_problem, register_functions

TEXT = os.urandom(200_000).hex().encode()  # ~400 kB that gzip cannot shrink much


@pytest.fixture
def whole(tmp_path):
    path = tmp_path / "day.csv.gz"
    path.write_bytes(gzip.compress(TEXT))
    return path


def test_a_whole_file_and_a_file_of_several_members_have_no_problem(whole, tmp_path):
    assert gzip_problem(str(whole)) is None
    members = tmp_path / "members.csv.gz"
    members.write_bytes(gzip.compress(TEXT) + gzip.compress(b"a,b\n1,2\n"))
    assert gzip_problem(str(members)) is None


@pytest.mark.parametrize("kept", [0.5, 0.999])
def test_a_cut_off_file_is_named_cut_off(whole, kept):
    data = whole.read_bytes()
    whole.write_bytes(data[: int(len(data) * kept)])
    assert "cut off" in gzip_problem(str(whole))


def test_a_cut_in_the_trailer_or_after_a_whole_member_is_cut_off(whole, tmp_path):
    data = whole.read_bytes()
    whole.write_bytes(data[:-4])  # the size field of the trailer is missing
    assert "cut off" in gzip_problem(str(whole))
    second = tmp_path / "second.csv.gz"
    second.write_bytes(data + gzip.compress(TEXT)[:1000])
    assert "cut off" in gzip_problem(str(second))


def test_a_corrupt_file_is_not_valid_gzip(whole):
    data = bytearray(whole.read_bytes())
    data[len(data) // 2] ^= 0xFF
    whole.write_bytes(bytes(data))
    assert "not valid gzip data" in gzip_problem(str(whole))


def test_other_files_are_not_looked_at(tmp_path):
    plain = tmp_path / "day.csv"
    plain.write_bytes(b"not gzip at all")
    assert gzip_problem(str(plain)) is None


def test_the_sql_function_returns_null_for_a_whole_file(whole, tmp_path):
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole.read_bytes()[:5000])
    with duckdb.connect() as connection:
        register_functions(connection)
        rows = connection.execute(
            "select raw_gzip_problem(?), raw_gzip_problem(?)", [str(whole), str(cut)]
        ).fetchone()
    assert rows[0] is None
    assert "cut off" in rows[1]


def test_file_facts_read_the_header_and_the_gzip_trailer(whole, tmp_path):
    from raw_files import file_facts

    text = b"InvoiceNo,StockCode\r\n1,A\n"
    day = tmp_path / "day.csv.gz"
    day.write_bytes(gzip.compress(text))
    facts = file_facts(str(day), "utf-8")
    assert facts["header_line"] == "InvoiceNo,StockCode"
    assert facts["gzip_size"] == len(text)
    assert facts["gzip_crc32"] == zlib.crc32(text)
    plain = tmp_path / "day.csv"
    plain.write_bytes(b"\xef\xbb\xbfInvoiceNo\n")
    assert file_facts(str(plain), "utf-8") == {
        "header_line": "\ufeffInvoiceNo",
        "gzip_crc32": None,
        "gzip_size": None,
    }
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert file_facts(str(empty), "utf-8")["header_line"] is None
    assert file_facts(str(tmp_path / "missing.csv.gz"), "utf-8") is None


def test_file_facts_header_across_steps_members_and_bad_data(tmp_path):
    from raw_files import file_facts
    from raw_files.gzip_integrity import HEAD_STEP_BYTES, HEADER_BYTES

    def header(name: str, data: bytes):
        path = tmp_path / name
        path.write_bytes(data)
        return file_facts(str(path), "utf-8")["header_line"]

    # a first line longer than one step, made of bytes gzip cannot shrink
    long_line = os.urandom(3 * HEAD_STEP_BYTES).hex()
    assert (
        header("long.csv.gz", gzip.compress(long_line.encode() + b"\nrest\n"))
        == long_line
    )
    # longer than the limit: cut at HEADER_BYTES, as a readline of that size
    too_long = header(
        "too_long.csv.gz", gzip.compress(b"y" * (HEADER_BYTES + 10) + b"\n")
    )
    assert too_long == "y" * HEADER_BYTES
    # the first line split over two gzip members (`cat a.gz b.gz`)
    members = gzip.compress(b"Invoice") + gzip.compress(b"No,StockCode\r\n1,A\n")
    assert header("members.csv.gz", members) == "InvoiceNo,StockCode"
    # a .gz name on text, or a file cut inside its gzip header: no line
    assert header("text.csv.gz", b"InvoiceNo,StockCode\n") is None
    assert header("cut.csv.gz", gzip.compress(b"a,b\n1,2\n")[:5]) is None
    # cut off inside its first line, as readline on gzip.open: no line
    assert header("cut_line.csv.gz", gzip.compress(b"InvoiceNo,StockCode")[:-4]) is None
    # cut off after its first line: the line
    cut_later = gzip.compress(b"InvoiceNo\n" + os.urandom(50_000).hex().encode())[:-100]
    assert header("cut_later.csv.gz", cut_later) == "InvoiceNo"


def test_files_facts_one_call_restores_the_switch_interval(tmp_path):
    import sys

    from raw_files import register_functions

    text = b"InvoiceNo,StockCode\n1,A\n"
    day = tmp_path / "day.csv.gz"
    day.write_bytes(gzip.compress(text))
    missing = tmp_path / "missing.csv.gz"
    interval = sys.getswitchinterval()
    with duckdb.connect() as connection:
        register_functions(connection)
        rows = connection.execute(
            "select unnest(raw_files_facts([?, ?], 'utf-8'), recursive := true)",
            [str(day), str(missing)],
        ).fetchall()
    assert sys.getswitchinterval() == interval
    assert rows == [
        (str(day), "InvoiceNo,StockCode", zlib.crc32(text), len(text)),
        (str(missing), None, None, None),
    ]
