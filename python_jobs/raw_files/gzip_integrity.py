"""Is a ``.gz`` raw file whole?

DuckDB reads a gzip file that was cut off (an interrupted copy or download)
without an error, up to the cut: the lines after it are lost without a
trace. :func:`gzip_problem` decompresses the file once, streaming, and
reports a file whose compressed stream ends before its end-of-stream marker,
or whose data does not match the CRC-32 and size in its trailer. The
`survey_raw_files` macro calls it, as the SQL function
``raw_gzip_problem(path)``, on a ``.gz`` file whose trailer does not match the
bytes the survey read (see :func:`file_facts`), and stops the build when it
returns a problem: so a whole file is decompressed once, by the survey's
read, and only a doubtful one a second time.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
import zlib

__all__ = ["file_facts", "files_facts", "gzip_problem", "register_functions"]

#: Bytes read per step: large enough that the Python loop costs nothing next
#: to zlib, small enough that memory stays flat on any file size.
CHUNK_BYTES = 1 << 20
#: zlib's window bits for a gzip wrapper (header and CRC-32/size trailer).
GZIP_WBITS = 16 + zlib.MAX_WBITS


def _gzip_text(stream, read_bytes: int, piece_bytes: int = 0):
    """Yield the text of the gzip data read from ``stream`` (``read_bytes``
    at a time), member after member (``cat a.gz b.gz``), in pieces of at
    most ``piece_bytes`` (0: as zlib gives them).

    Raises ``zlib.error`` for data that is not gzip and ``EOFError`` when
    the data ends inside a member (the file is cut off); a caller that stops
    early reads no further.
    """
    decompressor = zlib.decompressobj(GZIP_WBITS)
    member_open = False  # the current member has started and not ended
    pending = b""
    while True:
        if not pending:
            pending = stream.read(read_bytes)
            if not pending:
                break
        piece = decompressor.decompress(pending, piece_bytes)
        member_open = True
        yield piece
        if decompressor.eof:  # a member ended: whatever follows starts the next one
            pending = decompressor.unused_data
            decompressor = zlib.decompressobj(GZIP_WBITS)
            member_open = False
        else:
            pending = decompressor.unconsumed_tail
    if member_open:
        raise EOFError("the data ends inside a gzip member")


def gzip_problem(path: str) -> str | None:
    """What is wrong with the gzip file at ``path``, or None when it is whole.

    A file of several gzip members (``cat a.gz b.gz``) is whole when every
    member is. Files that do not end in ``.gz`` are not looked at.
    """
    if not path.lower().endswith(".gz"):
        return None
    try:
        with open(path, "rb") as stream:
            for _ in _gzip_text(stream, CHUNK_BYTES):
                pass
    except EOFError:
        return "it ends before the end of its compressed data (the file is cut off)"
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    except zlib.error as exc:
        return f"it is not valid gzip data ({exc})"
    return None


#: Bytes of the first line read at most (a header longer than this is cut).
HEADER_BYTES = 1 << 16


def file_facts(path: str, encoding: str) -> dict | None:
    """What a raw file says about itself without being read through.

    ``header_line``: the first line, decoded with ``encoding`` (undecodable
    bytes replaced), without its line break; null for an empty file.
    ``gzip_crc32`` and ``gzip_size`` (``.gz`` files only): the CRC-32 and
    the uncompressed size modulo 2**32 that the gzip trailer (the last 8
    bytes) records for the last member. Reads the first block and the last
    8 bytes, so it costs the same on any file size; a Parquet file has no
    line (all null). Null when the file cannot be opened (the read that
    follows names the problem).

    Few system calls on purpose: each gives up the interpreter lock, and
    in a build dbt's other thread takes it meanwhile (see
    :func:`files_facts`). A ``.gz`` file is opened once, unbuffered: its
    first block is read and decompressed in memory, then its last 8 bytes.
    """
    if path.lower().endswith(".parquet"):
        return {"header_line": None, "gzip_crc32": None, "gzip_size": None}
    gz = path.lower().endswith(".gz")
    crc32 = size = None
    try:
        if gz:
            with open(path, "rb", buffering=0) as stream:
                head = _gzip_first_line(stream)
                length = stream.seek(0, os.SEEK_END)
                tail = b""
                if length >= 8:
                    stream.seek(length - 8)
                    tail = stream.read(8)
            if len(tail) == 8:
                crc32, size = struct.unpack("<II", tail)
        else:
            with open(path, "rb") as stream:
                head = stream.readline(HEADER_BYTES)
    except OSError:
        return None
    text = head.decode(encoding.replace("_", "-"), errors="replace") if head else None
    return {
        "header_line": text.rstrip("\r\n") if text is not None else None,
        "gzip_crc32": crc32,
        "gzip_size": size,
    }


#: Compressed bytes read, and uncompressed bytes made, per step while
#: looking for the first line's end (a header line is far shorter).
HEAD_STEP_BYTES = 1 << 13


def _gzip_first_line(stream) -> bytes:
    """The first line of the gzip file open (unbuffered) in ``stream``, with
    its line break, at most ``HEADER_BYTES`` bytes, as ``readline`` on
    ``gzip.open`` gives it: the text is decompressed a step at a time until
    a line break or the limit; empty when the data is not gzip, or is cut
    off before either."""
    text = b""
    try:
        for piece in _gzip_text(stream, 2 * HEAD_STEP_BYTES, HEAD_STEP_BYTES):
            text += piece
            if len(text) > HEADER_BYTES or b"\n" in text:
                break
    except (EOFError, zlib.error):
        return b""
    end = text.find(b"\n")
    return text[: end + 1] if 0 <= end < HEADER_BYTES else text[:HEADER_BYTES]


#: The interpreter's thread switch interval while :func:`files_facts` runs.
#: Each file costs a few system calls, and each gives up the interpreter
#: lock; with the default interval (5 ms) a thread that wants the lock back
#: waits for another busy Python thread (dbt runs two) to reach it. Measured
#: on the bench's 305 files, beside a thread spinning in Python: 6.6 to
#: 16.3 s with the default interval, 0.36 to 0.39 s with this one. In a
#: dbt build of the real data the survey's query took 0.76 to 0.92 s with
#: one call per file, and 0.17 s with this function (see also the plugin's
#: first call, raw_files.dbt_plugin).
SWITCH_INTERVAL_SECONDS = 1e-5


@contextlib.contextmanager
def _short_switch_interval():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def files_facts(paths: list[str] | None, encoding: str) -> list[dict] | None:
    """:func:`file_facts` of every path in ``paths``, in one call, each with
    its ``source_file`` (a file that cannot be opened: all other fields
    null). One call for all the files, so that DuckDB takes the interpreter
    lock once, not once per file."""
    if paths is None:
        return None
    empty = {"header_line": None, "gzip_crc32": None, "gzip_size": None}
    with _short_switch_interval():
        return [
            {"source_file": path, **(file_facts(path, encoding) or empty)}
            for path in paths
            if path is not None
        ]


def register_functions(connection) -> None:
    """Register ``raw_gzip_problem(path) -> VARCHAR`` (null when whole) and
    ``raw_files_facts(paths, encoding) -> STRUCT[]`` (see :func:`files_facts`)."""
    import duckdb
    from duckdb.sqltypes import BIGINT, VARCHAR

    connection.create_function(
        "raw_files_facts",
        files_facts,
        [duckdb.list_type(VARCHAR), VARCHAR],
        duckdb.list_type(
            duckdb.struct_type(
                {
                    "source_file": VARCHAR,
                    "header_line": VARCHAR,
                    "gzip_crc32": BIGINT,
                    "gzip_size": BIGINT,
                }
            )
        ),
        null_handling="special",
        side_effects=True,
    )

    connection.create_function(
        "raw_gzip_problem",
        gzip_problem,
        [VARCHAR],
        VARCHAR,
        null_handling="special",
        side_effects=True,
    )
