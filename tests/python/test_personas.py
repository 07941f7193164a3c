"""Personas, profiles and RFM segments on generated data with planted personas.

The checks read the session's shared default build (conftest.py's
``generated_build``: 2,000 generated customers, seed 7, default settings) and
compare the persona each planted group ends up in with the persona it was
planted as, and keep the documented rules and the SQL in step.
"""

from __future__ import annotations

import csv
import re

import duckdb
import pytest
from pipeline import PROJECT_ROOT, dbt

# planted persona -> the RFM persona it must land in (None: any), and the
# behaviour qualifier its segment must carry (None: none required)
PLANTED_AS = {
    "loyal_high_spender": ("loyal_high_value", None),
    "bulk_wholesaler": (None, "bulk baskets"),
    "one_time_buyer": ("one_off", None),
    "lapsed_regular": ("at_risk_high_value", None),
    "new_recent": ("new", None),
    "weekend_gift_shopper": (None, "weekend"),
}
SEEDS = PROJECT_ROOT / "seeds"
MARTS_DOCS = PROJECT_ROOT / "models" / "marts" / "_marts__docs.md"


@pytest.fixture(scope="module")
def built(generated_build) -> dict:
    with open(generated_build.ground_truth / "customer_personas.csv") as handle:
        truth = {row["customer_id"]: row["persona"] for row in csv.DictReader(handle)}
    return {"run": generated_build, "truth": truth}


def _personas(run) -> list[tuple]:
    return run.query(
        "select segment_id, segment_name, persona_key, persona_rule "
        "from segment_personas order by segment_id"
    )


def test_each_planted_persona_lands_in_its_persona(built) -> None:
    assigned = {
        customer: (key, qualifier)
        for customer, key, qualifier in built["run"].query(
            "select s.customer_id, p.persona_key, p.behaviour_qualifier "
            "from customer_segments s join segment_personas p using (segment_id)"
        )
    }
    for planted, (persona, qualifier) in PLANTED_AS.items():
        got = [assigned[c] for c, p in built["truth"].items() if p == planted]
        for wanted, position in ((persona, 0), (qualifier, 1)):
            if wanted is None:
                continue
            values = [g[position] for g in got]
            most_common = max(set(values), key=values.count)
            share = values.count(wanted) / len(values)
            assert most_common == wanted, (planted, most_common, share)
            assert share >= 0.5, (planted, share)


def test_segment_names_are_unique_and_deterministic(built, tmp_path) -> None:
    before = _personas(built["run"])
    names = [row[1] for row in before]
    assert all(names) and len(set(names)) == len(names)

    build = built["run"]
    again = dbt(
        "run",
        build.fork(tmp_path / "again"),
        build.variables,
        args=["--select", "segment_personas"],
    )
    assert again.returncode == 0, again.output[-3000:]
    assert _personas(again) == before


def test_profiles_carry_persona_shares_and_z_scores(built) -> None:
    run = built["run"]
    (total_share, total_revenue_share) = run.query(
        "select sum(customer_share), sum(revenue_share) from segment_profiles"
    )[0]
    assert total_share == pytest.approx(1.0)
    assert total_revenue_share == pytest.approx(1.0)
    mismatched = run.query(
        """
        select profiles.segment_id
        from segment_profiles as profiles
        inner join segment_personas as personas
            on profiles.segment_id = personas.segment_id
        where profiles.segment_name != personas.segment_name
            or profiles.customer_count != personas.customer_count
            or profiles.monetary_z != personas.monetary_z
            or profiles.top_products is null
            or profiles.top_countries is null
            or profiles.dominant_rfm_code_segment is null
        """
    )
    assert mismatched == []
    # the champions persona spends the most per customer
    (top_key,) = run.query(
        "select persona_key from segment_profiles order by revenue_per_customer desc limit 1"
    )[0]
    assert top_key == "loyal_high_value"


def test_crosstab_counts_every_customer_once_per_scheme(built) -> None:
    run = built["run"]
    customers = run.query("select count(*) from customer_segments")[0][0]
    per_scheme = dict(
        run.query(
            "select rfm_scheme, sum(customer_count) from segment_rfm_crosstab group by 1"
        )
    )
    assert per_scheme == {"rf_grid": customers, "rfm_code_map": customers}
    rfm_segments = dict(
        run.query(
            "select rfm_scheme, count(distinct rfm_segment) from segment_rfm_crosstab group by 1"
        )
    )
    assert rfm_segments == {"rf_grid": 10, "rfm_code_map": 11}


def test_rfm_code_map_is_complete_and_matches_the_scores() -> None:
    with open(PROJECT_ROOT / "seeds" / "rfm_code_segments.csv") as handle:
        rows = list(csv.DictReader(handle))
    codes = {row["rfm_cell"] for row in rows}
    assert codes == {
        f"{r}{f}{m}" for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)
    }
    assert len(rows) == 125
    for row in rows:
        assert (
            row["rfm_cell"]
            == row["recency_score"] + row["frequency_score"] + row["monetary_score"]
        )
    by_code = {row["rfm_cell"]: row["rfm_code_segment"] for row in rows}
    assert by_code["555"] == "Champions"
    assert by_code["111"] == "Lost"
    assert by_code["155"] == "Can't Lose Them"


def test_documented_rules_match_the_seeds() -> None:
    """Every persona of the seed is in the doc table, in order, with its thresholds."""
    with open(SEEDS / "personas.csv") as handle:
        personas = sorted(
            (int(r["rule_order"]), r["persona_key"], r["persona_name"])
            for r in csv.DictReader(handle)
            if r["rule_kind"] == "persona"
        )
    with open(SEEDS / "persona_rules.csv") as handle:
        rules = list(csv.DictReader(handle))
    docs = MARTS_DOCS.read_text()
    block = docs[docs.index("{% docs segment_personas %}") :]
    block = block[: block.index("{% enddocs %}")]
    rows = [line for line in block.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert len(rows) == len(personas) == 9
    for (order, key, name), row in zip(personas, rows, strict=True):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert (int(cells[0]), cells[1]) == (order, name)
        thresholds = [
            float(r["threshold"])
            for r in rules
            if r["persona_key"] == key and r["direction"] != "any"
        ]
        documented = [float(t) for t in re.findall(r"-?\d+\.\d+", cells[2])]
        assert sorted(set(documented)) == sorted(set(thresholds)), (name, cells[2])


def test_persona_z_scores_use_the_persona_scale(built) -> None:
    """Recompute one segment's monetary z-score from customer rows."""
    run = built["run"]
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        segment_id, expected = con.sql(
            "select segment_id, monetary_z from segment_personas "
            "where segment_id != 0 order by segment_id limit 1"
        ).fetchone()
        (z,) = con.sql(
            f"""
            with scaled as (
                select
                    segments.segment_id,
                    sign(features.monetary) * ln(1 + abs(features.monetary)) as value
                from customer_features as features
                inner join customer_segments as segments
                    on features.customer_id = segments.customer_id
            )
            select
                round((avg(value) filter (where segment_id = {segment_id}) - avg(value))
                    / stddev_pop(value), 3)
            from scaled
            """
        ).fetchone()
    assert z == pytest.approx(expected, abs=1e-3)
