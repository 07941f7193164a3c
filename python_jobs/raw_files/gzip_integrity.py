"""Is a ``.gz`` raw file whole?

DuckDB reads a gzip file that was cut off (an interrupted copy or download)
without an error, up to the cut: the lines after it are lost without a
trace. :func:`gzip_problem` decompresses the file once, streaming, and
reports a file whose compressed stream ends before its end-of-stream marker,
or whose data does not match the CRC-32 and size in its trailer. The
`check_raw_transactions_location` macro calls it, as the SQL function
``raw_gzip_problem(path)``, on every ``.gz`` file a run is about to read, and
stops the build when it returns a problem.
"""

from __future__ import annotations

import zlib

__all__ = ["gzip_problem", "register_functions"]

#: Bytes read per step: large enough that the Python loop costs nothing next
#: to zlib, small enough that memory stays flat on any file size.
CHUNK_BYTES = 1 << 20
#: zlib's window bits for a gzip wrapper (header and CRC-32/size trailer).
GZIP_WBITS = 16 + zlib.MAX_WBITS


def gzip_problem(path: str) -> str | None:
    """What is wrong with the gzip file at ``path``, or None when it is whole.

    A file of several gzip members (``cat a.gz b.gz``) is whole when every
    member is. Files that do not end in ``.gz`` are not looked at.
    """
    if not path.lower().endswith(".gz"):
        return None
    decompressor = zlib.decompressobj(GZIP_WBITS)
    member_open = False  # the current member has started and not ended
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(CHUNK_BYTES):
                while chunk:
                    decompressor.decompress(chunk)
                    member_open = True
                    if not decompressor.eof:
                        break
                    # a member ended: whatever follows starts the next one
                    chunk = decompressor.unused_data
                    decompressor = zlib.decompressobj(GZIP_WBITS)
                    member_open = False
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    except zlib.error as exc:
        return f"it is not valid gzip data ({exc})"
    if member_open:
        return "it ends before the end of its compressed data (the file is cut off)"
    return None


def register_functions(connection) -> None:
    """Register ``raw_gzip_problem(path) -> VARCHAR`` (null when whole)."""
    from duckdb.sqltypes import VARCHAR

    connection.create_function(
        "raw_gzip_problem",
        gzip_problem,
        [VARCHAR],
        VARCHAR,
        null_handling="special",
        side_effects=True,
    )
