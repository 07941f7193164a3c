"""Staged paths and the atomic swap of a BI publication.

A publication is written in two steps by the `publish_for_bi` macro:

1. :func:`prepare_publication` creates the folders, removes what an
   interrupted earlier publication left behind, and returns staged paths: a
   DuckDB file under a hidden temporary name beside the target and a hidden
   version folder for the Parquet files.
2. SQL fills them (ATTACH, CREATE TABLE ... AS, DETACH; COPY ... TO).
3. :func:`commit_publication` flushes everything to disk and renames it into
   place: the version folder gets its final name, the ``parquet`` symbolic
   link is swapped to it, and the staged DuckDB file replaces the published
   one. Each swap is one ``rename(2)``, atomic on POSIX file systems, so a
   reader opens either the previous publication or the new one. A reader
   that holds the old file open keeps reading the old inode until it
   reconnects; the writer never needs a lock on the file a reader holds.

Nothing here runs unless the build succeeded: the macro decides that.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "PublicationError",
    "PublicationPaths",
    "commit_publication",
    "prepare_publication",
    "register_functions",
]

VERSIONS_FOLDER = ".versions"
PARQUET_LINK = "parquet"
LOCK_FILE = ".publish.lock"
_STAGED = ".staged-"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class PublicationError(RuntimeError):
    """The publication cannot be prepared or committed."""


@dataclass(frozen=True)
class PublicationPaths:
    """Where one publication is staged and where it lands.

    Attributes
    ----------
    database : str
        The published DuckDB file (absolute).
    staged_database : str
        The DuckDB file the SQL writes, renamed onto `database` on commit.
    parquet_link : str
        The ``parquet`` symbolic link readers open files through.
    version_dir : str
        The final folder of this version's Parquet files.
    staged_version_dir : str
        The folder the SQL writes the Parquet files into.
    """

    database: str
    staged_database: str
    parquet_link: str
    version_dir: str
    staged_version_dir: str

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> PublicationPaths:
        return cls(**json.loads(text))


def prepare_publication(
    database: str | os.PathLike[str],
    version: str,
    warehouse: str | os.PathLike[str] | None = None,
) -> PublicationPaths:
    """Create the folders and return the staged paths of a new publication.

    Parameters
    ----------
    database : path
        The published DuckDB file, e.g. ``published/segments.duckdb``;
        relative paths are taken from the working directory.
    version : str
        Name of this publication's Parquet folder: letters, digits, ``_``,
        ``.`` and ``-``; must not exist yet.
    warehouse : path, optional
        The build's own DuckDB file. Publishing onto it is refused.

    Returns
    -------
    PublicationPaths
        Absolute staged and final paths; nothing exists at the staged
        database path, the staged Parquet folder exists and is empty.
    """
    if not _VERSION.match(version):
        raise PublicationError(f"invalid publication version {version!r}")
    target = Path(database).expanduser().absolute()
    if warehouse and str(warehouse) != ":memory:":
        if target.resolve() == Path(warehouse).expanduser().resolve():
            raise PublicationError(
                f"BI_DUCKDB_PATH {target} is the build's own warehouse file; "
                "BI tools must read a separate publication"
            )
    if target.is_dir():
        raise PublicationError(f"BI_DUCKDB_PATH {target} is a folder")
    folder = target.parent
    versions = folder / VERSIONS_FOLDER
    versions.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(folder, target.name, versions)

    pid = os.getpid()
    version_dir = versions / version
    if version_dir.exists():
        raise PublicationError(f"publication version {version} exists already")
    staged_database = folder / f".{target.name}{_STAGED}{pid}-{version}"
    staged_version_dir = versions / f"{version}{_STAGED}{pid}"
    _remove(staged_database)
    _remove(_wal(staged_database))
    _remove(staged_version_dir)
    staged_version_dir.mkdir()
    return PublicationPaths(
        database=str(target),
        staged_database=str(staged_database),
        parquet_link=str(folder / PARQUET_LINK),
        version_dir=str(version_dir),
        staged_version_dir=str(staged_version_dir),
    )


def commit_publication(paths: PublicationPaths) -> str:
    """Flush the staged files and rename them into place.

    Returns
    -------
    str
        A one-line summary: the database, the Parquet folder and the number
        of Parquet files.
    """
    staged_database = Path(paths.staged_database)
    staged_version_dir = Path(paths.staged_version_dir)
    version_dir = Path(paths.version_dir)
    database = Path(paths.database)
    link = Path(paths.parquet_link)
    if not staged_database.is_file():
        raise PublicationError(f"staged database {staged_database} is missing")
    wal = _wal(staged_database)
    if wal.exists():
        if wal.stat().st_size:
            raise PublicationError(
                f"{staged_database} still has a write-ahead log: it was not detached"
            )
        wal.unlink()
    parquet_files = sorted(staged_version_dir.glob("*.parquet"))
    if not parquet_files:
        raise PublicationError(f"no Parquet file in {staged_version_dir}")
    for path in [*parquet_files, staged_database]:
        _fsync(path)
    _fsync(staged_version_dir)

    with _locked(database.parent / LOCK_FILE):
        os.rename(staged_version_dir, version_dir)
        _fsync(version_dir.parent)
        previous = _swap_link(link, version_dir)
        os.replace(staged_database, database)
        _fsync(database.parent)
        _prune_versions(version_dir.parent, keep={version_dir.name, previous})
    return (
        f"published {database} and {len(parquet_files)} Parquet files "
        f"in {link}/ (-> {version_dir.name})"
    )


def register_functions(connection) -> None:
    """Register the two SQL functions the `publish_for_bi` macro calls.

    ``bi_publication_prepare(database, version, warehouse)`` returns the
    staged paths as JSON; ``bi_publication_commit(paths_json)`` renames them
    into place and returns a summary.
    """
    from duckdb.sqltypes import VARCHAR

    def prepare(database: str, version: str, warehouse: str) -> str:
        return prepare_publication(database, version, warehouse or None).to_json()

    def commit(paths_json: str) -> str:
        return commit_publication(PublicationPaths.from_json(paths_json))

    connection.create_function(
        "bi_publication_prepare",
        prepare,
        [VARCHAR, VARCHAR, VARCHAR],
        VARCHAR,
        side_effects=True,
    )
    connection.create_function(
        "bi_publication_commit", commit, [VARCHAR], VARCHAR, side_effects=True
    )


def _swap_link(link: Path, version_dir: Path) -> str | None:
    """Point `link` at `version_dir` with one rename; return the old target."""
    previous = None
    if link.is_symlink():
        previous = Path(os.readlink(link)).name
    elif link.exists():
        # a real folder from a hand-made copy: move it aside once, so that
        # every later swap is a single rename
        aside = version_dir.parent / f"replaced-folder-{version_dir.name}"
        os.rename(link, aside)
        previous = aside.name
    temporary = link.with_name(f".{link.name}.link-{os.getpid()}")
    _remove(temporary)
    os.symlink(
        os.path.relpath(version_dir, link.parent), temporary, target_is_directory=True
    )
    os.replace(temporary, link)
    return previous


def _prune_versions(versions: Path, keep: set[str | None]) -> None:
    """Remove every finished version but those in `keep` (staged ones stay).

    The committer keeps the new version and the one before it, so that a
    reader that resolved the link just before the swap can still open files.
    """
    for entry in versions.iterdir():
        if _STAGED not in entry.name and entry.name not in keep:
            _remove(entry)


def _remove_abandoned(folder: Path, database_name: str, versions: Path) -> None:
    """Remove staged files of publications whose process is gone."""
    staged_database = re.compile(
        rf"^\.{re.escape(database_name)}{_STAGED}(\d+)-.*?(\.wal)?$"
    )
    staged_version = re.compile(rf"{_STAGED}(\d+)$")
    candidates = [
        (entry, staged_database.match(entry.name)) for entry in folder.iterdir()
    ] + [(entry, staged_version.search(entry.name)) for entry in versions.iterdir()]
    for entry, match in candidates:
        if match and not _is_running(int(match.group(1))):
            _remove(entry)


def _is_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wal(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _fsync(path: Path) -> None:
    """Flush a file's or a folder's entries to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Serialize the swaps of concurrent publishers to the same folder."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
