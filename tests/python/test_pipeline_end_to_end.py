"""`dbt build` end to end on generated data with planted personas.

The checks read the session's shared default build (conftest.py's
``generated_build``: 2,000 generated customers, seed 7, every setting at its
default). That the same input and settings give the same segments, metrics
and model is test_faults.py's thread-determinism test, which builds the
same data again (with other thread counts) and compares it with this build.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from pipeline import dbt
from sklearn.metrics import adjusted_rand_score

CUSTOMERS = 2000


@pytest.fixture(scope="module")
def generated(generated_build):
    manifest = json.loads((generated_build.ground_truth / "manifest.json").read_text())
    truth_csv = generated_build.ground_truth / "customer_personas.csv"
    return {"manifest": manifest, "truth_csv": truth_csv}


@pytest.fixture(scope="module")
def build(generated_build):
    return generated_build


def test_every_line_is_staged_or_rejected(build, generated):
    manifest = generated["manifest"]
    read, staged, rejected = build.query(
        "select sum(lines_read), sum(lines_staged), sum(lines_rejected) from source_file_loads"
    )[0]
    assert read == manifest["lines"]["total"]
    assert read == staged + rejected
    (staged_view,) = build.query(
        "select count(*) from stg_online_retail__transaction_lines"
    )[0]
    (rejects_table,) = build.query("select count(*) from transaction_rejects")[0]
    assert (staged_view, rejects_table) == (staged, rejected)


def test_planted_dirt_lands_in_rejects_with_its_reason(build, generated):
    malformed = generated["manifest"]["lines"]["malformed"]
    reasons = dict(
        build.query(
            "select reject_reason, count(*) from transaction_rejects group by 1"
        )
    )
    assert reasons.get("wrong_field_count", 0) == malformed["missing_field"]
    assert reasons.get("unparseable_quantity", 0) == malformed["bad_quantity"]
    assert reasons.get("unparseable_invoice_date", 0) == malformed["bad_date"]
    assert reasons.get("malformed_quoting", 0) == malformed["broken_quoting"]
    assert (
        reasons.get("duplicate_line", 0) == generated["manifest"]["lines"]["duplicate"]
    )
    # each planted malformed line is quarantined at its own file and line
    planted = {
        (entry["file"], entry["line"])
        for entry in generated["manifest"]["malformed_lines"]
    }
    found = {
        (path.rsplit("/", 1)[-1], line)
        for path, line in build.query(
            "select source_file, source_line_number from transaction_rejects "
            "where reject_reason != 'duplicate_line'"
        )
    }
    assert planted == found


def test_customer_ids_are_clean_strings(build):
    (dirty,) = build.query(
        "select count(*) from stg_online_retail__transaction_lines where customer_id like '%.%'"
    )[0]
    assert dirty == 0


def test_every_featurized_customer_has_exactly_one_segment(build):
    features, segmented, distinct = build.query(
        "select (select count(*) from customer_features), count(*), count(distinct customer_id) "
        "from customer_segments"
    )[0]
    assert features == segmented == distinct
    (shares,) = build.query("select sum(customer_share) from segment_profiles")[0]
    assert shares == pytest.approx(1.0)


def test_selected_model_recovers_the_planted_personas(build, generated):
    rows = build.query(
        f"select s.segment_id, t.persona from customer_segments s "
        f"join read_csv('{generated['truth_csv']}', all_varchar = true) t using (customer_id)"
    )
    assert len(rows) > 0.9 * CUSTOMERS
    ari = adjusted_rand_score([r[1] for r in rows], [r[0] for r in rows])
    assert ari >= 0.8, f"adjusted Rand index {ari:.3f} against the planted personas"


def test_selected_model_respects_the_selection_rule(build):
    (k, smallest, selected) = build.query(
        "select k, smallest_segment_share, "
        "(select count(*) from segmentation_model_evaluation where is_selected) "
        "from segmentation_model_evaluation where is_selected"
    )[0]
    assert selected == 1
    assert 3 <= k <= 8
    assert smallest >= 0.02
    # chosen by the rules, not by the fallback: eligible, and stable above
    # the default stability_floor (0.8) with bootstrap_samples at its 10
    (eligible, stability, fallback, rejection) = build.query(
        "select e.is_eligible, e.stability_ari, m.selection_fallback, "
        "e.rejection_reason from segmentation_model_evaluation e "
        "cross join segmentation_models m where e.is_selected and m.model_version "
        "in (select model_version from customer_segments)"
    )[0]
    assert eligible and rejection is None
    assert fallback is False
    assert stability is not None and stability >= 0.8


@pytest.fixture(scope="module")
def scoring_sql(small_build, tmp_path_factory):
    """The project's score_customers macro, compiled by dbt over plain tables
    named features, transform, knots, centroids and segments (on a copy of
    the shared build, whose parsed project and vars keep the parse short)."""
    from conftest import SEGMENTATION_FEATURES

    call = (
        "{{ score_customers('features', "
        + json.dumps(list(SEGMENTATION_FEATURES))
        + ", 'transform', 'knots', 'centroids', 'segments') }}"
    )
    run = dbt(
        "compile",
        small_build.fork(tmp_path_factory.mktemp("scoring_sql")),
        small_build.variables,
        args=["--quiet", "--output", "json", "--inline", call],
    )
    assert run.returncode == 0, run.output[-3000:]
    return json.loads(run.output[run.output.index("{") :])["compiled"]


def _score_with_macro(sql: str, table: pa.Table, artifact_rows: list) -> dict:
    """Run the compiled macro in DuckDB on one fitted model's flat artifacts."""
    import duckdb
    from segmentation.artifacts import artifact_table

    artifacts = artifact_table(artifact_rows, "test")  # noqa: F841 (read by DuckDB)
    features = table  # noqa: F841
    with duckdb.connect() as con:
        for name, artifact, extra in (
            ("transform", "feature", "and drop_reason is null"),
            ("knots", "quantile_knot", ""),
            ("centroids", "centroid", ""),
            ("segments", "segment", ""),
        ):
            con.execute(
                f"create table {name} as select * from artifacts "
                f"where artifact = '{artifact}' {extra}"
            )
        con.execute("create table features as select * from features")
        return {
            customer: (segment, distance)
            for customer, segment, distance in con.sql(
                f"select customer_id, segment_id, distance_to_centroid from ({sql})"
            ).fetchall()
        }


@pytest.mark.parametrize(
    "settings",
    [
        {"scaler": "robust", "algorithms": ["kmeans"]},
        {"scaler": "standard", "algorithms": ["kmeans"]},
        {"scaler": "quantile", "algorithms": ["kmeans"]},
        # Davies-Bouldin leaves outliers out, so HDBSCAN beats the k-means
        # baseline on these noisy blobs and its radius branch runs
        {"algorithms": ["hdbscan"], "selection_metric": "davies_bouldin"},
    ],
    ids=["robust", "standard", "quantile", "density_radius"],
)
def test_the_scoring_macro_assigns_as_the_fit_did(
    scoring_sql, settings, segmentation_table_from_matrix
):
    """Each transform branch of score_customers against the package's scorer
    (segmentation.score, the fit's own nearest-centroid assignment): the same
    segment and the same distance for every customer, so the SQL's imputing
    (some values are null), log transform, clipping and scaling are the
    Python transform's, value for value."""
    from segmentation import fit_segmentation, score
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(
        n_samples=800, centers=4, n_features=10, center_box=(-10, 10), random_state=7
    )
    rng = np.random.default_rng(1)
    X = np.vstack([np.abs(X) * 10, rng.uniform(0, 300, (20, 10))])
    X[rng.random(X.shape) < 0.01] = np.nan  # imputed
    table = segmentation_table_from_matrix(X)
    result = fit_segmentation(table, {**settings, "bootstrap_samples": 0})
    expected, distance, *_ = score(table, result.registry_row)
    got = _score_with_macro(scoring_sql, table, result.artifact_rows)
    ids = table.column("customer_id").to_pylist()
    assert [got[c][0] for c in ids] == expected.tolist()
    assert [got[c][1] for c in ids] == pytest.approx(distance.tolist(), rel=1e-9)
    if "hdbscan" in settings["algorithms"]:
        assert result.registry_row["algorithm"] == "hdbscan"
        assert result.registry_row["has_outlier_segment"]
        assert (expected == 0).sum() > 0  # the radius branch did send some to 0
    if settings.get("scaler") == "quantile":
        assert all(t["quantile_knots"] for t in result.registry_row["transform"])


def test_customer_segments_hold_the_scores_of_the_model_in_use(build):
    (versions, scored, segments) = build.query(
        "select (select count(distinct model_version) from customer_segments), "
        "(select count(*) from int_customers_scored), "
        "(select count(*) from customer_segments)"
    )[0]
    assert versions == 1
    assert scored == segments
    (mismatched,) = build.query(
        "select count(*) from customer_segments s join int_customers_scored c "
        "using (customer_id) where s.segment_id != c.segment_id "
        "or s.model_version != c.model_version"
    )[0]
    assert mismatched == 0
