"""Fails when engine-specific SQL is used outside a duckdb__/spark__ macro.

The project runs on DuckDB and on Spark: everything that differs between the
two lives in an `adapter.dispatch` macro, with a `duckdb__` and a `spark__`
body side by side (macros/cross_engine/). This check reads every model,
macro, analysis, data test and snapshot (.sql), leaves out comments and the
bodies of duckdb__/spark__ macros, and looks for the constructs listed in
portability/duckdb_only_constructs.txt.

    python python_jobs/check_portability.py            # exit 1 on any use
    python python_jobs/check_portability.py --report   # list them per file, exit 0
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRUCTS = ROOT / "portability" / "duckdb_only_constructs.txt"
SQL_FOLDERS = ("models", "macros", "analyses", "tests", "snapshots")
# bodies of these macros may use their engine's own SQL
ENGINE_PREFIXES = ("duckdb__", "spark__")

_JINJA_COMMENT = re.compile(r"{#.*?#}", re.S)
_JINJA_TAG = re.compile(r"{{.*?}}|{%.*?%}", re.S)
_SQL_STRING = re.compile(r"'(?:[^']|'')*'")
_SQL_LINE_COMMENT = re.compile(r"--[^\n]*")
_MACRO = re.compile(r"{%-?\s*macro\s+(\w+)\s*\(.*?{%-?\s*endmacro\s*-?%}", re.S | re.I)


@dataclass(frozen=True)
class Construct:
    pattern: re.Pattern[str]
    reason: str
    sql_only: bool  # match outside Jinja tags and SQL string literals only
    source: str


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    text: str
    reason: str


def load_constructs(path: Path = CONSTRUCTS) -> list[Construct]:
    constructs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if " ## " not in line:
            raise SystemExit(
                f"{path}:{number}: expected '<regex> ## <reason>', got {line!r}"
            )
        regex, reason = (part.strip() for part in line.split(" ## ", 1))
        sql_only = regex.startswith("sql: ")
        if sql_only:
            regex = regex.removeprefix("sql: ")
        try:
            pattern = re.compile(regex, re.I | re.M)
        except re.error as error:
            raise SystemExit(
                f"{path}:{number}: bad regular expression {regex!r}: {error}"
            ) from None
        constructs.append(Construct(pattern, reason, sql_only, regex))
    return constructs


def _blank(text: str, pattern: re.Pattern[str], keep=lambda match: False) -> str:
    """Replace each match by spaces (newlines kept), so line numbers stay right."""

    def replace(match: re.Match[str]) -> str:
        if keep(match):
            return match.group(0)
        return re.sub(r"[^\n]", " ", match.group(0))

    return pattern.sub(replace, text)


def portable_views(sql: str) -> tuple[str, str]:
    """(the text checked for every construct, the text outside Jinja and strings)."""
    text = _blank(sql, _JINJA_COMMENT)
    text = _blank(
        text, _MACRO, keep=lambda m: not m.group(1).lower().startswith(ENGINE_PREFIXES)
    )
    text = _blank(text, _SQL_LINE_COMMENT)
    sql_only = _blank(_blank(text, _JINJA_TAG), _SQL_STRING)
    return text, sql_only


def check_file(
    path: Path, constructs: list[Construct], root: Path = ROOT
) -> list[Violation]:
    sql = path.read_text(encoding="utf-8")
    full, sql_only = portable_views(sql)
    lines = sql.splitlines()
    found = []
    for construct in constructs:
        for match in construct.pattern.finditer(
            sql_only if construct.sql_only else full
        ):
            line = sql.count("\n", 0, match.start()) + 1
            found.append(
                Violation(
                    str(path.relative_to(root)),
                    line,
                    lines[line - 1].strip()[:100],
                    f"{match.group(0).strip()}: {construct.reason}",
                )
            )
    return sorted(found, key=lambda v: (v.path, v.line, v.reason))


def sql_files(root: Path = ROOT) -> list[Path]:
    files = []
    for folder in SQL_FOLDERS:
        # tests/host_project is another dbt project (a DuckDB host of this one)
        files.extend(
            p
            for p in (root / folder).rglob("*.sql")
            if "python" not in p.parts and "host_project" not in p.parts
        )
    return sorted(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--report", action="store_true", help="list every use per file and exit 0"
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="files to check (default: every .sql file)"
    )
    args = parser.parse_args(argv)
    constructs = load_constructs()
    paths = [p.resolve() for p in args.paths] or sql_files()
    violations = [v for path in paths for v in check_file(path, constructs)]
    if not violations:
        print(
            f"Portable: {len(paths)} SQL files use none of the {len(constructs)} engine-specific constructs outside duckdb__/spark__ macros."
        )
        return 0
    by_file: dict[str, list[Violation]] = {}
    for violation in violations:
        by_file.setdefault(violation.path, []).append(violation)
    for path, found in by_file.items():
        print(f"{path}: {len(found)}")
        for violation in found:
            print(
                f"  line {violation.line}: {violation.reason}\n      {violation.text}"
            )
    print(
        f"\n{len(violations)} uses of engine-specific SQL in {len(by_file)} of {len(paths)} files. "
        f"Move each into a duckdb__/spark__ macro (see macros/cross_engine/) or use the portable form "
        f"named above; the list is {CONSTRUCTS.relative_to(ROOT)}."
    )
    return 0 if args.report else 1


if __name__ == "__main__":
    sys.exit(main())
