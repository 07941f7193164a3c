"""The cross-engine macros give the same results on DuckDB and on Spark.

Every macro of macros/cross_engine is rendered by dbt for the duckdb target
and for the spark target (`dbt compile --inline`), and each rendering runs on
its engine on the same small inputs: DuckDB in memory, Spark as a local
session started once for the module, configured from the spark target of
profiles.yml. The two engines' rows must agree (numbers within 1e-9); where
a case states the expected rows, the DuckDB rows must be those too, so both
engines cannot agree on a wrong answer.

Marked `spark`: skipped when pyspark, the spark_local plugin
(requirements-spark.txt) or Java is missing.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import jinja2
import pytest
import yaml
from check_portability import check_file, load_constructs, sql_files

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "macros" / "cross_engine"
ENGINES = ("duckdb", "spark")
DEFAULT_DATE_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
]


@dataclass
class Case:
    """One query per engine: a dbt-Jinja template (the same for both unless
    `inputs` gives each engine its own input rows, in `{inputs}`)."""

    name: str
    macro: str | None
    template: str
    expected: list[tuple] | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    ordered: bool = True
    error: str | None = None  # the message both engines must stop with

    def sql(self, engine: str) -> str:
        return self.template.replace("{inputs}", self.inputs.get(engine, ""))


def union(rows: list[str]) -> str:
    """Input rows, each written `expression as name, ...`, as one VALUES list
    (Spark evaluates it in the driver, without a job per row)."""
    parsed = [re.findall(r"(.+?) as (\w+)(?:, |$)", row) for row in rows]
    names = [name for _, name in parsed[0]]
    assert all([name for _, name in row] == names for row in parsed), rows
    tuples = ", ".join(
        "(" + ", ".join(expression for expression, _ in row) + ")" for row in parsed
    )
    return f"select * from (values {tuples}) as input_rows ({', '.join(names)})"


def ts(text: str | None) -> str:
    return "cast(null as timestamp)" if text is None else f"cast('{text}' as timestamp)"


def txt(text: str | None) -> str:
    return (
        "cast(null as string)" if text is None else "'" + text.replace("'", "''") + "'"
    )


WEEK = [f"2024-03-{day} 10:00:00" for day in range(25, 32)]  # Monday 25 ... Sunday 31

TIMESTAMPS = [
    "1970-01-01 00:00:00",
    "2010-12-01 08:26:00",
    "2024-03-31 02:30:00.5",
    "2024-10-27 01:30:00",
    None,
]

DATE_TEXTS = [
    "12/1/2010 8:26",
    "12/01/2010 08:26:05",
    "2010-12-01 08:26:00",
    "2010-12-01 08:26",
    "2010-12-01",
    "31/12/2010 10:00",
    "2/29/2011 10:00",
    "2/29/2012 10:00",
    " 2010-12-01 08:26",
    "2010-12-01  08:26 ",
    "2010-12-1\t8:26",
    "garbage",
    "",
    None,
]


def _epoch(text: str) -> float:
    return (dt.datetime.fromisoformat(text) - dt.datetime(1970, 1, 1)).total_seconds()


CASES = [
    Case(
        "day_of_week_iso",
        "day_of_week_iso",
        "with inputs as ("
        + union([f"{i} as id, {ts(t)} as t" for i, t in enumerate([*WEEK, None])])
        + ") select id, {{ day_of_week_iso('t') }} as r, {{ day_of_week_iso('cast(t as date)') }} as r_date "
        "from inputs order by id",
        expected=[(i, i + 1, i + 1) for i in range(7)] + [(7, None, None)],
    ),
    Case(
        "is_weekend",
        None,
        "with inputs as ("
        + union([f"{i} as id, {ts(t)} as t" for i, t in enumerate([*WEEK, None])])
        + ") select id, {{ is_weekend('t') }} as r from inputs order by id",
        expected=[(i, i >= 5) for i in range(7)] + [(7, None)],
    ),
    Case(
        "epoch_seconds",
        "epoch_seconds",
        "with inputs as ("
        + union([f"{i} as id, {ts(t)} as t" for i, t in enumerate(TIMESTAMPS)])
        + ") select id, {{ epoch_seconds('t') }} as r from inputs order by id",
        expected=[
            (i, None if t is None else _epoch(t)) for i, t in enumerate(TIMESTAMPS)
        ],
    ),
    Case(
        "parse_timestamp_with_formats",
        "parse_timestamp_with_formats",
        "with inputs as ("
        + union([f"{i} as id, {txt(t)} as t" for i, t in enumerate(DATE_TEXTS)])
        + ") select id, cast({{ parse_timestamp_with_formats('t', "
        + repr(DEFAULT_DATE_FORMATS)
        + ") }} as string) as r from inputs order by id",
        expected=[
            (0, "2010-12-01 08:26:00"),
            (1, "2010-12-01 08:26:05"),
            (2, "2010-12-01 08:26:00"),
            (3, "2010-12-01 08:26:00"),
            (4, None),
            (5, None),
            (6, None),
            (7, "2012-02-29 10:00:00"),
            (8, "2010-12-01 08:26:00"),
            (9, "2010-12-01 08:26:00"),
            (10, "2010-12-01 08:26:00"),
            (11, None),
            (12, None),
            (13, None),
        ],
    ),
    Case(
        "parse_timestamp_with_formats_names_and_literals",
        "parse_timestamp_with_formats",
        "with inputs as ("
        + union(
            [
                f"{i} as id, {txt(t)} as t"
                for i, t in enumerate(
                    [
                        "01-Dec-2010 08:26 h",
                        "1-Dec-2010 8:26 h",
                        "2010-12-01T08:26:05",
                        "01-Dec-2010",
                    ]
                )
            ]
        )
        + ") select id, cast({{ parse_timestamp_with_formats('t', ['%d-%b-%Y %H:%M h', '%Y-%m-%dT%H:%M:%S']) }}"
        " as string) as r from inputs order by id",
        expected=[
            (0, "2010-12-01 08:26:00"),
            (1, "2010-12-01 08:26:00"),
            (2, "2010-12-01 08:26:05"),
            (3, None),
        ],
    ),
    Case(
        "format_timestamp",
        "format_timestamp",
        "with inputs as ("
        + union(
            [f"1 as id, {ts('2010-02-01 08:06:05')} as t", f"2 as id, {ts(None)} as t"]
        )
        + ") "
        "select id, {{ format_timestamp('t', '%Y-%m-%d %H:%M:%S') }} as a, {{ format_timestamp('t', '%d/%m/%Y') }} as b, "
        "{{ format_timestamp('t', '%Y%m (%b) T%H') }} as c from inputs order by id",
        expected=[
            (1, "2010-02-01 08:06:05", "01/02/2010", "201002 (Feb) T08"),
            (2, None, None, None),
        ],
    ),
    Case(
        "current_local_timestamp",
        "current_local_timestamp",
        "select cast({{ current_local_timestamp() }} as string) as r",
    ),
    Case(
        "type_timestamp_with_time_zone",
        "type_timestamp_with_time_zone",
        'select {{ format_timestamp("cast(\'2024-03-31 10:00:00+02:00\' as " ~ type_timestamp_with_time_zone() ~ ")",'
        " '%Y-%m-%d %H:%M:%S') }} as r",
        expected=[("2024-03-31 08:00:00",)],
    ),
    Case(
        "regexp_is_full_match",
        "regexp_is_full_match",
        "with inputs as ("
        + union(
            [
                f"{i} as id, {t} as t"
                for i, t in enumerate(
                    [
                        "'2010-12'",
                        "'2010-12x'",
                        "' 2010-12'",
                        "concat('2010-12', chr(10))",
                        "''",
                        txt(None),
                    ]
                )
            ]
        )
        + ") select id, {{ regexp_is_full_match('t', '\\\\d{4}-\\\\d{2}') }} as digits,"
        " {{ regexp_is_full_match('t', '\\\\s*') }} as blank,"
        " {{ regexp_is_full_match('t', '2010-12|x') }} as alternatives from inputs order by id",
        expected=[
            (0, True, False, True),
            (1, False, False, False),
            (2, False, False, False),
            (3, False, False, False),
            (4, False, True, False),
            (5, None, None, None),
        ],
    ),
    Case(
        "regexp_contains",
        "regexp_contains",
        "with inputs as ("
        + union(
            [
                f"{i} as id, {txt(t)} as t"
                for i, t in enumerate(["17850.0", "17850", "1.05", None])
            ]
        )
        + ") select id, {{ regexp_contains('t', '\\\\.0+$') }} as r from inputs order by id",
        expected=[(0, True), (1, False), (2, False), (3, None)],
    ),
    Case(
        "regexp_replace_all",
        "regexp_replace_all",
        "with inputs as ("
        + union(
            [
                f"{i} as id, {txt(t)} as t"
                for i, t in enumerate(["a.0.0", "17850.00", "a-b-c", None])
            ]
        )
        + ") select id, {{ regexp_replace_all('t', '\\\\.0', '') }} as dots,"
        " {{ regexp_replace_all('t', '-', '$1\\\\') }} as plain_replacement from inputs order by id",
        expected=[
            (0, "a", "a.0.0"),
            (1, "178500", "17850.00"),
            (2, "a-b-c", "a$1\\b$1\\c"),
            (3, None, None),
        ],
    ),
    Case(
        "trim_spaces",
        "trim_spaces",
        "with inputs as ("
        + union(
            [
                f"{i} as id, {txt(t)} as t"
                for i, t in enumerate(
                    [
                        "  a b  ",
                        "\u00a0\u3000b\u2007\u202f",  # no-break, ideographic, figure spaces
                        "\u1680\u2000c\u200a\u205f",
                        "\td\t",  # tabs are not spaces
                        "\u200be\ufeff",  # nor are zero-width characters
                        " \u00a0 ",
                        None,
                    ]
                )
            ]
        )
        + ") select id, {{ trim_spaces('t') }} as r from inputs order by id",
        expected=[
            (0, "a b"),
            (1, "b"),
            (2, "c"),
            (3, "\td\t"),
            (4, "\u200be\ufeff"),
            (5, ""),
            (6, None),
        ],
    ),
    Case(
        "unicode_character",
        "unicode_character",
        "with inputs as ("
        + union(
            [
                f"{i} as id, {txt(t)} as t"
                for i, t in enumerate(["\ufeffInvoiceNo", "\u00ffx", "a\u00a0b"])
            ]
        )
        + ") select id, replace(t, {{ unicode_character(65279) }}, '') as without_bom,"
        " replace(t, {{ unicode_character(160) }}, ' ') as nbsp_as_space from inputs order by id",
        expected=[
            (0, "InvoiceNo", "\ufeffInvoiceNo"),
            (1, "\u00ffx", "\u00ffx"),
            (2, "a\u00a0b", "a b"),
        ],
    ),
    Case(
        "has_prefix",
        "has_prefix",
        "with inputs as ("
        + union(
            [
                f"{i} as id, {txt(t)} as t"
                for i, t in enumerate(["C536379", "536379", "", None])
            ]
        )
        + ") select id, {{ has_prefix('t', \"'C'\") }} as c, {{ has_prefix('t', \"''\") }} as empty from inputs order by id",
        expected=[(0, True, True), (1, False, True), (2, False, True), (3, None, None)],
    ),
    Case(
        "split_to_array",
        "split_to_array",
        "with inputs as ("
        + union(
            [
                f"{i} as id, {txt(t)} as t"
                for i, t in enumerate(["a;b;;", "a.b;c", "", "x||y|", None])
            ]
        )
        + ") select id, {{ split_to_array('t', ';') }} as semicolon, {{ split_to_array('t', '.') }} as dot,"
        " {{ split_to_array('t', '||') }} as double_bar from inputs order by id",
        expected=[
            (0, ["a", "b", "", ""], ["a;b;;"], ["a;b;;"]),
            (1, ["a.b", "c"], ["a", "b;c"], ["a.b;c"]),
            (2, [""], [""], [""]),
            (3, ["x||y|"], ["x||y|"], ["x", "y|"]),
            (4, None, None, None),
        ],
    ),
    Case(
        "raise_error_not_reached",
        "raise_error",
        "with inputs as (" + union(["1 as id", "2 as id"]) + ") "
        "select id, case when id > 0 then id else {{ raise_error(\"'never raised'\") }} end as r from inputs order by id",
        expected=[(1, 1), (2, 2)],
    ),
    Case(
        "raise_error_reached",
        "raise_error",
        "select case when 1 = 1 then {{ raise_error(\"'stopped: line 7 of data.csv'\") }} end as r",
        error="stopped: line 7 of data.csv",
    ),
    Case(
        "is_finite",
        "is_finite",
        "with inputs as ("
        + union(
            [
                f"{i} as id, try_cast({txt(t)} as double) as x"
                for i, t in enumerate(
                    ["1.5", "Infinity", "-Infinity", "NaN", "0", None]
                )
            ]
        )
        + ") select id, {{ is_finite('x') }} as r from inputs order by id",
        expected=[(0, True), (1, False), (2, False), (3, False), (4, True), (5, None)],
    ),
    Case(
        "array_of_and_array_length",
        "array_of",
        "with inputs as ("
        + union(["1 as id, 5 as x", "2 as id, 6 as x", "3 as id, 7 as x"])
        + ") "
        "select id, {{ array_of(['1', 'x', 'x * 2']) }} as arr,"
        ' {{ array_length("case when id = 1 then " ~ array_of([\'x\', \'x\']) ~ " when id = 2 then " ~ array_of([]) ~ " end") }}'
        " as n from inputs order by id",
        expected=[(1, [1, 5, 10], 2), (2, [1, 6, 12], 0), (3, [1, 7, 14], None)],
    ),
    Case(
        "array_length",
        "array_length",
        "select {{ array_length(array_of([\"'a'\", \"'b'\", \"'c'\"])) }} as r",
        expected=[(3,)],
    ),
    Case(
        "array_element",
        "array_element",
        "with inputs as ("
        + union(["1 as id, 1 as p", "2 as id, 3 as p", "3 as id, 4 as p"])
        + ") "
        "select id, {{ array_element(array_of(['10', '20', '30']), 'p') }} as r from inputs order by id",
        expected=[(1, 10), (2, 30), (3, None)],
    ),
    Case(
        "array_position_or_null",
        "array_position_or_null",
        "with inputs as ("
        + union([f"{i} as id, {txt(t)} as v" for i, t in enumerate(["b", "z", "a"])])
        + ") select id, {{ array_position_or_null(array_of([\"'a'\", \"'b'\", \"'a'\"]), 'v') }} as r from inputs order by id",
        expected=[(0, 2), (1, None), (2, 1)],
    ),
    Case(
        "count_array_elements_at_most",
        "count_array_elements_at_most",
        "with inputs as ("
        + union(
            [
                f"{i} as id, cast({v} as double) as v"
                for i, v in enumerate(["-1", "0", "2", "3", "11", "null"])
            ]
        )
        + ") select id, {{ count_array_elements_at_most(array_of(['0.0', '1.5', '3.0', '10.0']), 'v') }} as r"
        " from inputs order by id",
        expected=[(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 0)],
    ),
    Case(
        "join_array",
        "join_array",
        "select {{ join_array(array_of([\"'a'\", 'cast(null as string)', \"'b'\"]), ', ') }} as r,"
        ' {{ join_array(array_of(["\'a\'", "\'b\'"]), "\'\\\\") }} as quote_backslash',
        expected=[("a, b", "a'\\b")],
    ),
    Case(
        "transform_array",
        "transform_array",
        "select {{ transform_array(array_of([\"' A '\", \"'b'\", 'cast(null as string)']), 'name', 'lower(trim(name))') }}"
        " as r, {{ transform_array(array_of(['1', '2']), 'x', 'x * 10') }} as tens",
        expected=[(["a", "b", None], [10, 20])],
    ),
    Case(
        "filter_array",
        "filter_array",
        "select {{ filter_array(array_of([\"'InvoiceNo'\", \"'Country'\", \"'UnitPrice'\"]), 'name',"
        " \"name != 'Country'\") }} as r, {{ array_length(filter_array(array_of(['1', '2']), 'x', 'x > 5')) }} as none_left",
        expected=[(["InvoiceNo", "UnitPrice"], 0)],
    ),
    Case(
        "array_contains_value",
        "array_contains_value",
        "with inputs as ("
        + union([f"{i} as id, {txt(t)} as v" for i, t in enumerate(["b", "z"])])
        + ") select id, {{ array_contains_value(array_of([\"'a'\", \"'b'\"]), 'v') }} as r from inputs order by id",
        expected=[(0, True), (1, False)],
    ),
    Case(
        # the hash values differ between engines (by design): what must hold
        # on both is that equal rows, nulls included, get equal hashes and
        # different rows (here) different ones
        "grouping_hash",
        "grouping_hash",
        "with inputs as ("
        + union(
            [
                "1 as id, 'a' as t, cast(1.5 as double) as x",
                "2 as id, 'a' as t, cast(1.5 as double) as x",
                "3 as id, cast(null as string) as t, cast(1.5 as double) as x",
                "4 as id, cast(null as string) as t, cast(1.5 as double) as x",
                "5 as id, 'b' as t, cast(1.5 as double) as x",
                "6 as id, 'a' as t, cast(2.5 as double) as x",
            ]
        )
        + "), hashed as (select id, {{ grouping_hash('t, x') }} as h from inputs)"
        " select count(distinct h) as distinct_hashes,"
        " count(distinct case when id in (1, 2) then h end) as first_pair,"
        " count(distinct case when id in (3, 4) then h end) as null_pair from hashed",
        expected=[(4, 1, 1)],
    ),
    Case(
        # values in one row, in two, in three; nulls (never "repeated")
        "repeated_values",
        "repeated_values",
        "with inputs as ("
        + union(
            [
                f"{v} as v"
                for v in [
                    "3",
                    "1",
                    "3",
                    "2",
                    "3",
                    "cast(null as bigint)",
                    "cast(null as bigint)",
                    "5",
                    "1",
                ]
            ]
        )
        + ") select v from ({{ repeated_values('inputs', 'v') }}) as repeated",
        expected=[(1,), (3,)],
        ordered=False,
    ),
    Case(
        # staged quantities and unit prices up to the absurd-value limits
        # (100000 each by default) multiply exactly, in the narrow decimals
        # line_amount casts them to: compared as text, every digit
        "line_amount_up_to_the_absurd_value_limits",
        "line_amount",
        "with inputs as ("
        + union(
            [
                f"{i} as id, cast({q} as bigint) as q, cast({p} as decimal(18, 4)) as p"
                for i, (q, p) in enumerate(
                    [
                        ("100000", "100000"),
                        ("-100000", "99999.9999"),
                        ("7", "0.0001"),
                        ("-3", "2.55"),
                        ("1", "null"),
                    ]
                )
            ]
        )
        + ") select id, cast({{ line_amount('q', 'p') }} as string) as amount from inputs order by id",
        expected=[
            (0, "10000000000.0000"),
            (1, "-9999999990.0000"),
            (2, "0.0007"),
            (3, "-7.6500"),
            (4, None),
        ],
    ),
    Case(
        "explode_array",
        "explode_array",
        "with inputs as ("
        + union(
            [
                "1 as id, " + "{{ array_of(['1', '2']) }} as arr",
                "2 as id, case when false then {{ array_of(['1']) }} end as arr",
                "3 as id, {{ array_of(['3']) }} as arr",
            ]
        )
        + ") select id, element from (select id, {{ explode_array('arr') }} as element from inputs) as exploded"
        " order by id, element",
        expected=[(1, 1), (1, 2), (3, 3)],
    ),
    Case(
        "rows_of_struct_array",
        "rows_of_struct_array",
        "with inputs as ({inputs}) select {{ rows_of_struct_array('structs') }} from inputs",
        inputs={
            "duckdb": "select [{'feature': 'a', 'share': cast(0.25 as double), 'edges': [cast(1 as double), 2.0]},"
            " {'feature': 'b', 'share': cast(0.75 as double), 'edges': [cast(3 as double)]}] as structs",
            "spark": "select array(named_struct('feature', 'a', 'share', cast(0.25 as double), 'edges', array(1D, 2D)),"
            " named_struct('feature', 'b', 'share', cast(0.75 as double), 'edges', array(3D))) as structs",
        },
        expected=[("a", 0.25, [1.0, 2.0]), ("b", 0.75, [3.0])],
        ordered=False,
    ),
    Case(
        "string_agg_ordered",
        "string_agg_ordered",
        "with inputs as ("
        + union(
            [
                "1 as g, 'b' as t, 2 as k",
                "1 as g, 'a' as t, 1 as k",
                "1 as g, cast(null as string) as t, 3 as k",
                "1 as g, 'c' as t, 4 as k",
                "2 as g, 'x' as t, 1 as k",
            ]
        )
        + ") select g, {{ string_agg_ordered('t', ', ', 'k') }} as r from inputs group by g order by g",
        expected=[(1, "a, b, c"), (2, "x")],
    ),
    Case(
        "percentiles_cont",
        "percentiles_cont",
        "with inputs as ("
        + union(
            [
                "1 as g, 1 as x",
                "1 as g, 2 as x",
                "1 as g, 4 as x",
                "1 as g, 10 as x",
                "2 as g, 7 as x",
            ]
        )
        + ") select g, {{ percentiles_cont('x', [0, 0.5, 0.9, 1]) }} as r from inputs group by g order by g",
        expected=[(1, [1.0, 3.0, 8.2, 10.0]), (2, [7.0, 7.0, 7.0, 7.0])],
    ),
    Case(
        "sql_string_literal",
        "sql_string_literal",
        'select {{ sql_string_literal("it\'s a \\\\d back\\\\slash; %Y") }} as r',
        expected=[("it's a \\d back\\slash; %Y",)],
    ),
    # constructs the portability list leaves out because both engines read them alike
    Case(
        "portable_qualify_filter_max_by",
        None,
        "with inputs as ("
        + union(["1 as g, 2 as x", "1 as g, 5 as x", "2 as g, 3 as x"])
        + "),"
        " ranked as (select g, x from inputs qualify row_number() over (partition by g order by x desc) = 1)"
        " select g, x, (select count(*) filter (where x > 2) from inputs) as big,"
        " (select max_by(g, x) from inputs) as g_of_max from ranked order by g",
        expected=[(1, 5, 2, 1), (2, 3, 2, 1)],
    ),
    Case(
        "portable_try_cast_to_double",
        None,
        "with inputs as ("
        + union(
            [
                f"{i} as id, {txt(t)} as t"
                for i, t in enumerate([" 12 ", "1e3", "abc", "1,5", "-0.5", ""])
            ]
        )
        + ") select id, try_cast(t as double) as r from inputs order by id",
        expected=[(0, 12.0), (1, 1000.0), (2, None), (3, None), (4, -0.5), (5, None)],
    ),
    # the project's generic test: its row rules and its keys in one query
    # (rows whose key columns are all null are not compared, as dbt's unique)
    Case(
        "column_rules_keys",
        "test_column_rules",
        "{{ test_column_rules(model='(' ~ \""
        + union(
            [
                "1 as id, 'a' as code, 1 as n",
                "1 as id, 'a' as code, 2 as n",
                "2 as id, 'b' as code, 3 as n",
                "cast(null as int) as id, cast(null as string) as code, 4 as n",
                "cast(null as int) as id, cast(null as string) as code, 5 as n",
                "3 as id, 'c' as code, cast(null as int) as n",
            ]
        )
        + "\" ~ ') as keyed', not_null=['id', 'n'], unique=['id', ['id', 'code'], 'n'],"
        " accepted_range={'n': {'max_value': 4}}) }}",
        expected=[
            ("accepted_range: n <= 4", 1),
            ("not_null: id", 2),
            ("not_null: n", 1),
            ("unique: id", 2),
            ("unique: id, code", 2),
        ],
        ordered=False,
    ),
]


# --- rendering ------------------------------------------------------------


def _render_cases(engine: str, target_path: Path) -> dict[str, str]:
    """Every case's SQL as dbt renders it for the engine's target, in one dbt call."""
    from dbt.cli.main import dbtRunner

    marker = "-- @@case "
    document = "\n".join(f"{marker}{case.name}\n{case.sql(engine)}" for case in CASES)
    result = dbtRunner().invoke(
        [
            "compile",
            "--inline",
            document,
            "--target",
            engine,
            "--project-dir",
            str(ROOT),
            "--profiles-dir",
            str(ROOT),
            "--target-path",
            str(target_path),
            "--no-populate-cache",
            "--log-level",
            "none",
        ]
    )
    assert result.success, (
        f"dbt could not render the cases for {engine}: {result.exception}"
    )
    compiled = result.result.results[0].node.compiled_code
    rendered = {}
    for chunk in compiled.split(marker)[1:]:
        name, sql = chunk.split("\n", 1)
        rendered[name.strip()] = sql.strip()
    return rendered


def _spark_settings(warehouse: Path) -> dict[str, str]:
    """The spark target's Spark settings from profiles.yml, as dbt renders them."""
    profile = yaml.safe_load((ROOT / "profiles.yml").read_text())
    settings = profile["customer_segmentation"]["outputs"]["spark"][
        "server_side_parameters"
    ]
    environment = {**os.environ, "SPARK_WAREHOUSE_DIR": str(warehouse)}

    def env_var(name: str, default: str | None = None) -> str:
        return environment.get(name, default)

    rendered = {
        key: jinja2.Template(str(value)).render(env_var=env_var)
        for key, value in settings.items()
    }
    rendered = {key: value for key, value in rendered.items() if value.strip()}
    rendered["spark.sql.ansi.enabled"] = (
        "false"  # dbt-spark forces this on every session
    )
    return rendered


# --- fixtures -------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict[str, str]]:
    pytest.importorskip(
        "dbt.adapters.spark_local",
        reason="the spark_local plugin (pip install -r requirements-spark.txt)",
    )
    os.environ.setdefault(
        "DUCKDB_PATH", str(tmp_path_factory.mktemp("duckdb") / "unused.duckdb")
    )
    return {
        engine: _render_cases(engine, tmp_path_factory.mktemp(f"target_{engine}"))
        for engine in ENGINES
    }


@pytest.fixture(scope="module")
def duckdb_connection():
    connection = duckdb.connect()
    # wall-clock timestamps read as UTC, like the spark target's session
    connection.execute("set TimeZone = 'UTC'")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    pytest.importorskip(
        "pyspark", reason="pyspark (pip install -r requirements-spark.txt)"
    )
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java 17 is needed for Spark (Debian: openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("test_cross_engine_macros")
    for key, value in _spark_settings(
        tmp_path_factory.mktemp("spark_warehouse")
    ).items():
        builder = builder.config(key, value)
    started = time.perf_counter()
    session = builder.getOrCreate()
    session.sql("select 1").collect()
    print(f"\nSpark session started in {time.perf_counter() - started:.1f} s")
    yield session
    session.stop()


# --- comparison -----------------------------------------------------------


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return (
            value.isoformat(sep=" ")
            if isinstance(value, dt.datetime)
            else value.isoformat()
        )
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "asDict"):  # a Spark Row nested in a value
        return _plain(value.asDict())
    return value


def _rows(rows) -> list[list]:
    return [[_plain(v) for v in row] for row in rows]


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(
            a, b, rel_tol=1e-9, abs_tol=1e-9
        )
    if (
        isinstance(a, float | int)
        and isinstance(b, float | int)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _run(engine: str, sql: str, duckdb_connection, spark) -> list[list]:
    if engine == "duckdb":
        return _rows(duckdb_connection.sql(sql).fetchall())
    return _rows(spark.sql(sql).collect())


# --- tests ----------------------------------------------------------------


@pytest.mark.spark
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_duckdb_and_spark_agree(case: Case, rendered, duckdb_connection, spark):
    results = {}
    for engine in ENGINES:
        sql = rendered[engine][case.name]
        if case.error is not None:
            with pytest.raises(Exception, match=re.escape(case.error)):
                _run(engine, sql, duckdb_connection, spark)
            continue
        try:
            results[engine] = _run(engine, sql, duckdb_connection, spark)
        except Exception as error:  # show the SQL that failed
            pytest.fail(f"{case.name} failed on {engine}: {error}\n--- SQL ---\n{sql}")
        if not case.ordered:
            results[engine] = sorted(results[engine], key=repr)
    if case.error is not None:
        return
    if case.name == "current_local_timestamp":
        # now, on both engines: the same wall clock within a minute
        readings = [
            dt.datetime.fromisoformat(results[engine][0][0]) for engine in ENGINES
        ]
        assert abs((readings[0] - readings[1]).total_seconds()) < 60, readings
        assert (
            abs(
                (
                    readings[0] - dt.datetime.now(dt.UTC).replace(tzinfo=None)
                ).total_seconds()
            )
            < 600
        )
        return
    assert _same(results["duckdb"], results["spark"]), (
        f"{case.name}: DuckDB and Spark differ\n"
        f"duckdb: {results['duckdb']}\nspark:  {results['spark']}\n"
        f"--- duckdb SQL ---\n{rendered['duckdb'][case.name]}\n--- spark SQL ---\n{rendered['spark'][case.name]}"
    )
    if case.expected is not None:
        expected = (
            sorted(_rows(case.expected), key=repr)
            if not case.ordered
            else _rows(case.expected)
        )
        assert _same(results["duckdb"], expected), (
            f"{case.name}: got {results['duckdb']}, expected {expected}"
        )


def test_every_library_macro_has_a_case():
    """Each meaning with engine bodies in macros/cross_engine is run by a case above."""
    dispatched = set()
    for path in LIBRARY.glob("*.sql"):
        dispatched |= set(
            re.findall(
                r"macro\s+(?:duckdb|spark|default)__(\w+)\s*\(", path.read_text()
            )
        )
    dispatched.add("sql_string_literal")
    covered = {case.macro for case in CASES}
    assert dispatched - covered == set(), (
        f"macros without a case: {sorted(dispatched - covered)}"
    )


def test_portability_check_flags_duckdb_sql_only_outside_engine_bodies(tmp_path):
    constructs = load_constructs()
    model = tmp_path / "model.sql"
    model.write_text(
        "{% macro duckdb__weekday(ts) %}dayofweek({{ ts }}){% endmacro %}\n"
        "{% macro spark__weekday(ts) %}dayofweek({{ ts }}) - 1{% endmacro %}\n"
        "-- a comment may say isfinite(x)\n"
        "select x::integer, dayofweek(t) in (0, 6) as weekend, {{ is_weekend('t') }} from t\n"
    )
    found = check_file(model, constructs, root=tmp_path)
    assert [(v.line, v.reason.split(": ", 1)[0]) for v in found] == [
        (4, "::i"),
        (4, "dayofweek("),
    ]


def test_cross_engine_library_is_portable_outside_its_engine_bodies():
    constructs = load_constructs()
    library = [
        path
        for path in sql_files()
        if LIBRARY in path.parents or path.name == "sql_string_literal.sql"
    ]
    assert library, "no library files found"
    assert [v for path in library for v in check_file(path, constructs)] == []
