"""The exploratory analyses (analyses/) and `make eda` (run_analyses.py).

They run on a copy of the session's shared default build (conftest.py's
``generated_build``, 2,000 generated customers, with its BI publication);
test_report.py uses such a copy too, through :func:`session_warehouse`.
`make eda`'s command runs once on it and the checks read the CSVs it
writes, comparing them with the warehouse's own tables. (A copy, because
the commands' `dbt compile` opens the warehouse file it is given.)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
import run_analyses
from pipeline import PROJECT_ROOT, DbtRun, run_command

ANALYSES = sorted((PROJECT_ROOT / "analyses").rglob("*.sql"))


def session_warehouse(generated_build, folder: Path) -> tuple[DbtRun, dict]:
    """A copy of the shared default build (warehouse and BI publication) in
    folder, and its dbt vars (test_report.py uses it too)."""
    copy = generated_build.fork(folder, publication=True)
    run = DbtRun(0, generated_build.output, copy / "warehouse.duckdb")
    return run, generated_build.variables


@pytest.fixture(scope="module")
def warehouse(generated_build, tmp_path_factory) -> tuple[DbtRun, dict]:
    return session_warehouse(generated_build, tmp_path_factory.mktemp("eda_warehouse"))


@pytest.fixture(scope="module")
def eda(warehouse, tmp_path_factory):
    """Run `make eda`'s command on the warehouse; return the run and out dir."""
    run, variables = warehouse
    work = tmp_path_factory.mktemp("eda")
    out = work / "reports"
    done = run_command(
        [
            sys.executable,
            str(PROJECT_ROOT / "python_jobs" / "run_analyses.py"),
            "--out",
            str(out),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
            "--vars",
            json.dumps(variables),
        ],
        env={**os.environ, "DUCKDB_PATH": str(run.warehouse)},
        check=True,
    )
    return done, out


def read(eda, name: str) -> pd.DataFrame:
    _, out = eda
    folder = next(
        (prefix for prefix in ("bi", "report") if name.startswith(f"{prefix}_")), "eda"
    )
    return pd.read_csv(out / folder / f"{name}.csv")


def scalar(run: DbtRun, sql: str):
    return run.query(sql)[0][0]


def test_make_eda_writes_one_csv_per_analysis(eda):
    done, out = eda
    index = pd.read_csv(out / "index.csv")
    written = sorted(path.relative_to(out) for path in out.rglob("*.csv"))
    expected = sorted(
        path.relative_to(PROJECT_ROOT / "analyses").with_suffix(".csv")
        for path in ANALYSES
    )
    assert len(ANALYSES) >= 15
    assert [p for p in written if p.name != "index.csv"] == expected
    assert sorted(Path(p) for p in index["csv_file"]) == expected
    assert (index["row_count"] > 0).all(), index[index["row_count"] == 0]
    # every analysis says what it shows, from its header comment
    assert index["description"].str.len().min() > 40
    assert f"[{len(ANALYSES)}/{len(ANALYSES)}]" in done.stderr


def test_analyses_use_ref_not_table_names():
    for path in ANALYSES:
        sql = path.read_text()
        assert "{{ ref(" in sql, path
        # the fitted model is flat tables: nothing to unpack
        assert "unnest(" not in sql.lower(), path
        assert sql.lstrip().startswith(("{#", "--")), f"{path} has no header comment"
        assert "main." not in sql, path


def test_data_quality_profile_matches_the_tables(eda, warehouse):
    run, _ = warehouse
    profile = read(eda, "data_quality_profile")
    checks = {
        (row.check_group, row.check_name): row.line_count
        for row in profile.itertuples()
    }
    lines_read = scalar(run, "select count(*) from base_online_retail__lines_read")
    staged = scalar(run, "select count(*) from stg_online_retail__transaction_lines")
    rejected = scalar(run, "select count(*) from transaction_rejects")
    assert checks["lines", "lines_staged"] == staged
    assert checks["lines", "lines_rejected"] == rejected
    assert staged + rejected == lines_read
    reasons = dict(
        run.query("select reject_reason, count(*) from transaction_rejects group by 1")
    )
    assert {
        name: count
        for (group, name), count in checks.items()
        if group == "rejected_by_reason"
    } == reasons
    assert reasons.get("duplicate_line", 0) > 0  # the generator plants duplicates
    staged_flags = run.query(
        """
        select
            count(*) filter (where is_cancellation),
            count(*) filter (where quantity < 0),
            count(*) filter (where unit_price = 0),
            count(*) filter (where is_non_product),
            count(*) filter (where customer_id is null)
        from stg_online_retail__transaction_lines
        """
    )[0]
    assert (
        checks["staged_lines", "cancellation_line"],
        checks["staged_lines", "negative_quantity"],
        checks["staged_lines", "zero_unit_price"],
        checks["staged_lines", "non_product_code"],
        checks["staged_lines", "missing_customer_id"],
    ) == staged_flags
    missing = {
        name: n for (group, name), n in checks.items() if group == "missing_value"
    }
    assert set(missing) >= {"invoice_no", "stock_code", "customer_id", "quantity"}
    assert missing["customer_id"] >= checks["staged_lines", "missing_customer_id"]
    assert (profile["line_count"] >= 0).all()
    assert (profile["line_count"] <= profile["base_line_count"]).all()
    assert (
        profile["line_share"] - profile["line_count"] / profile["base_line_count"]
    ).abs().max() < 1e-5


def test_monthly_revenue_adds_up_to_the_invoices(eda, warehouse):
    run, _ = warehouse
    monthly = read(eda, "monthly_revenue")
    orders, net = run.query(
        """
        select
            count(*) filter (where is_sale),
            sum(product_sales_amount) - sum(product_returns_amount)
        from int_invoices_aggregated_from_lines
        """
    )[0]
    assert monthly["order_count"].sum() == orders
    assert monthly["net_revenue"].sum() == pytest.approx(
        float(net), abs=0.01 * len(monthly)
    )
    assert monthly["revenue_month"].is_monotonic_increasing
    assert len(monthly) == monthly["revenue_month"].nunique() >= 12
    for column in ("order_count", "active_customer_count", "gross_sales_amount"):
        assert (monthly[column] >= 0).all()
    aov = monthly["gross_sales_amount"] / monthly["order_count"]
    assert (monthly["avg_order_value"] - aov).abs().max() < 0.01


def test_revenue_by_country_shares_sum_to_one(eda, warehouse):
    run, _ = warehouse
    countries = read(eda, "revenue_by_country")
    assert countries["revenue_share"].sum() == pytest.approx(1)
    assert countries["customer_share"].sum() == pytest.approx(1)
    assert countries["country"].is_unique
    assert countries["customer_count"].sum() == scalar(
        run, "select count(*) from customer_features"
    )


def test_new_customers_are_counted_once(eda, warehouse):
    run, _ = warehouse
    months = read(eda, "new_vs_returning_customers")
    customers = scalar(run, "select count(*) from customer_features")
    assert months["new_customer_count"].sum() == customers
    assert months["returning_customer_count"].iloc[0] == 0
    assert (
        months["new_customer_count"] + months["returning_customer_count"]
        == months["active_customer_count"]
    ).all()
    assert months["new_customer_share"].between(0, 1).all()


def test_cohort_retention_starts_at_100_percent(eda, warehouse):
    run, _ = warehouse
    cohorts = read(eda, "cohort_retention")
    first = cohorts[cohorts["months_since_first"] == 0]
    assert (first["retention"] == 1).all()
    assert (first["active_customer_count"] == first["cohort_customer_count"]).all()
    assert first["cohort_customer_count"].sum() == scalar(
        run, "select count(*) from customer_features"
    )
    assert cohorts["retention"].between(0, 1).all()
    assert (cohorts["active_customer_count"] <= cohorts["cohort_customer_count"]).all()
    assert not cohorts.duplicated(["cohort_month", "months_since_first"]).any()
    # the matrix is a full triangle: the first cohort has a row for every month
    oldest = cohorts[cohorts["cohort_month"] == cohorts["cohort_month"].min()]
    assert list(oldest["months_since_first"]) == list(range(len(oldest)))
    assert len(oldest) == cohorts["activity_month"].nunique()


def test_order_distributions_are_ordered_quantiles(eda, warehouse):
    run, _ = warehouse
    distributions = read(eda, "order_distributions")
    assert set(distributions["measure"]) == {
        "items_per_order",
        "distinct_products_per_order",
        "lines_per_order",
        "order_value",
    }
    columns = [
        "min_value",
        "p01",
        "p05",
        "p10",
        "p25",
        "p50",
        "p75",
        "p90",
        "p95",
        "p99",
        "max_value",
    ]
    values = distributions[columns].to_numpy()
    assert (values[:, 1:] >= values[:, :-1] - 1e-9).all()
    orders = scalar(
        run, "select count(*) from int_invoices_aggregated_from_lines where is_sale"
    )
    assert (distributions["order_count"] == orders).all()
    # a sale invoice sells at least one product, and never more products than it has lines
    by_measure = distributions.set_index("measure")[columns]
    products = by_measure.loc["distinct_products_per_order"].to_numpy()
    lines = by_measure.loc["lines_per_order"].to_numpy()
    assert products[0] >= 1
    assert (products <= lines + 1e-9).all()
    assert (products[1:] > products[:-1]).any()


def test_top_products_rankings(eda, warehouse):
    run, _ = warehouse
    products = read(eda, "top_products")
    assert ((products["revenue_rank"] <= 25) | (products["customer_rank"] <= 25)).all()
    assert (products["revenue_rank"] <= 25).sum() == 25
    by_revenue = products.sort_values("revenue_rank")
    assert by_revenue["revenue"].is_monotonic_decreasing
    top = by_revenue.iloc[0]
    revenue = scalar(
        run,
        "select sum(line_amount) from stg_online_retail__transaction_lines "
        f"where is_product_sale and stock_code = '{top.stock_code}'",
    )
    assert top.revenue == pytest.approx(float(revenue), abs=0.01)
    assert products["customer_count"].max() <= scalar(
        run, "select count(*) from customer_features"
    )


def test_product_pairs_are_bounded_and_consistent(eda, warehouse):
    run, _ = warehouse
    pairs = read(eda, "product_pairs")
    assert 0 < len(pairs) <= 100
    assert (pairs["stock_code_a"].astype(str) < pairs["stock_code_b"].astype(str)).all()
    assert not pairs.duplicated(["stock_code_a", "stock_code_b"]).any()
    assert (
        pairs["pair_order_count"]
        <= pairs[["order_count_a", "order_count_b"]].min(axis=1)
    ).all()
    assert pairs["confidence_a_to_b"].between(0, 1).all()
    assert pairs["pair_order_count"].is_monotonic_decreasing
    top = pairs.iloc[0]
    together = scalar(
        run,
        f"""
        select count(*) from (
            select invoice_no
            from stg_online_retail__transaction_lines
            where is_product_sale and stock_code in ('{top.stock_code_a}', '{top.stock_code_b}')
            group by invoice_no
            having count(distinct stock_code) = 2
        )
        """,
    )
    assert top.pair_order_count == together


def test_rfm_distributions(eda, warehouse):
    run, _ = warehouse
    customers = scalar(run, "select count(*) from customer_features")
    scores = read(eda, "rfm_score_distribution")
    assert set(scores["score_name"]) == {"recency", "frequency", "monetary"}
    assert scores["score"].between(1, 5).all()
    for _, rows in scores.groupby("score_name"):
        assert rows["customer_count"].sum() == customers
        assert rows["customer_share"].sum() == pytest.approx(1, abs=1e-3)
    segments = read(eda, "rfm_segment_distribution")
    assert segments["customer_count"].sum() == customers
    assert segments["customer_share"].sum() == pytest.approx(1, abs=1e-3)
    assert segments["revenue_share"].sum() == pytest.approx(1, abs=1e-3)


def test_segment_views_add_up(eda, warehouse):
    run, _ = warehouse
    customers, monetary = run.query(
        "select count(*), sum(monetary) from customer_features"
    )[0]
    by_month = read(eda, "segment_revenue_by_month")
    assert by_month["net_revenue"].sum() == pytest.approx(
        monetary, abs=0.01 * customers
    )
    shares = by_month.groupby("revenue_month")["month_revenue_share"].sum()
    assert shares.to_numpy() == pytest.approx(1, abs=1e-3)
    crosstab = read(eda, "segments_vs_rfm_segments")
    assert crosstab["customer_count"].sum() == customers
    per_segment = crosstab.groupby("segment_id")["share_of_segment"].sum()
    assert per_segment.to_numpy() == pytest.approx(1, abs=1e-3)


def test_bi_queries(eda, warehouse):
    run, variables = warehouse
    customers = scalar(run, "select count(*) from customer_features")
    sizes = read(eda, "bi_segment_sizes_and_revenue")
    assert sizes["customer_count"].sum() == customers
    assert sizes["customer_share"].sum() == pytest.approx(1, abs=1e-3)
    assert sizes["revenue_share"].sum() == pytest.approx(1, abs=1e-3)
    assert sizes["revenue"].is_monotonic_decreasing

    targets = read(eda, "bi_customers_to_target")
    assert 0 < len(targets) <= 100
    assert targets["monetary"].is_monotonic_decreasing
    assert targets["customer_id"].is_unique
    personas = dict(run.query("select customer_id, persona_key from customer_segments"))
    for row in targets.itertuples():
        by_segment = personas[str(row.customer_id)] == "at_risk_high_value"
        by_rfm = row.rfm_segment in ("At Risk", "Can't Lose Them")
        assert by_segment or by_rfm
        assert (
            row.flagged_by
            == {
                (True, True): "segment and rfm",
                (True, False): "segment",
                (False, True): "rfm",
            }[by_segment, by_rfm]
        )


def test_rfm_score_grid_adds_up(eda, warehouse):
    run, _ = warehouse
    customers, monetary = run.query(
        "select count(*), sum(monetary) from customer_features"
    )[0]
    grid = read(eda, "rfm_score_grid")
    assert not grid.duplicated(["recency_score", "frequency_score"]).any()
    assert grid[["recency_score", "frequency_score"]].stack().between(1, 5).all()
    assert grid["customer_count"].sum() == customers
    assert grid["revenue"].sum() == pytest.approx(monetary, abs=0.01 * len(grid))
    champions = scalar(
        run,
        "select count(*) from customer_features "
        "where recency_score = 5 and frequency_score = 5",
    )
    top = grid[(grid["recency_score"] == 5) & (grid["frequency_score"] == 5)]
    assert top["customer_count"].sum() == champions


def test_report_analyses_describe_the_model_in_use(eda, warehouse):
    run, _ = warehouse
    model = read(eda, "report_model")
    assert len(model) == 1
    # the model in use is the one that scored the customers
    (version,) = {
        row[0] for row in run.query("select model_version from customer_segments")
    }
    n_segments, cutoff = run.query(
        "select n_segments, training_cutoff_date from segmentation_models "
        f"where model_version = '{version}'"
    )[0]
    assert model.loc[0, "model_version"] == version
    assert model.loc[0, "n_segments"] == n_segments
    assert model.loc[0, "training_cutoff_date"] == str(cutoff)

    candidates = read(eda, "report_model_candidates")
    assert set(candidates["model_version"]) == {version}
    assert candidates["is_selected"].sum() == 1
    assert candidates[candidates["is_selected"]]["is_eligible"].all() or bool(
        model.loc[0, "selection_fallback"]
    )

    features = read(eda, "report_model_features")
    assert features["feature"].is_unique
    used = features[features["is_used"]].sort_values("feature_position")
    centroid_features = [
        row[0]
        for row in run.query(
            "select feature from segment_centroids "
            "group by feature order by min(feature_position)"
        )
    ]
    assert list(used["feature"]) == centroid_features
    assert features[~features["is_used"]]["drop_reason"].str.len().gt(0).all()

    stability = read(eda, "report_segment_stability")
    segments = {row[0] for row in run.query("select segment_id from segment_personas")}
    assert set(stability["segment_id"]) <= segments
    assert segments - {0} <= set(stability["segment_id"])  # every fitted segment
    assert stability["jaccard_stability"].dropna().between(0, 1).all()


def test_report_feature_distributions_and_period(eda, warehouse):
    run, _ = warehouse
    stats = read(eda, "report_segment_feature_distributions")
    # a feature without values in a segment (days between orders of one-order
    # customers) has no quantiles
    assert stats[stats["customer_count"] == 0]["p50"].isna().all()
    stats = stats[stats["customer_count"] > 0]
    quantiles = stats[["p05", "p25", "p50", "p75", "p95"]].to_numpy()
    assert (quantiles[:, 1:] >= quantiles[:, :-1] - 1e-9).all()
    assert (stats["feature_min"] <= stats["p05"] + 1e-9).all()
    assert (stats["p95"] <= stats["feature_max"] + 1e-9).all()
    recency = stats[stats["feature"] == "recency_days"]
    counts = dict(
        run.query("select segment_id, count(*) from customer_segments group by 1")
    )
    assert dict(zip(recency["segment_id"], recency["customer_count"], strict=True)) == (
        counts
    )
    segment_1 = recency[recency["segment_id"] == min(counts)].iloc[0]
    median = scalar(
        run,
        "select median(features.recency_days) from customer_features as features "
        "inner join customer_segments as segments using (customer_id) "
        f"where segments.segment_id = {min(counts)}",
    )
    assert segment_1.p50 == pytest.approx(median)
    # skewness by its definition, over all customers
    values = pd.DataFrame(
        run.query("select monetary from customer_features"), columns=["monetary"]
    )["monetary"].astype(float)
    skewness = ((values - values.mean()) ** 3).mean() / values.std(ddof=0) ** 3
    monetary = stats[stats["feature"] == "monetary"].iloc[0]
    assert monetary.feature_skewness == pytest.approx(skewness, rel=1e-6)

    period = read(eda, "report_data_period")
    assert len(period) == 1
    lines_read, files = run.query(
        "select sum(lines_read), count(*) from source_file_loads"
    )[0]
    assert period.loc[0, "lines_read"] == lines_read
    assert period.loc[0, "file_count"] == files
    assert period.loc[0, "lines_staged"] + period.loc[0, "lines_rejected"] == lines_read
    assert period.loc[0, "customer_count"] == scalar(
        run, "select count(*) from customer_features"
    )


@pytest.mark.parametrize("script", ["run_analyses.py", "make_report.py"])
def test_missing_warehouse_is_one_clear_paragraph(script, tmp_path):
    """`make eda` and `make report` (which shares the check) stop in one paragraph."""
    done = run_command(
        [
            sys.executable,
            str(PROJECT_ROOT / "python_jobs" / script),
            "--out",
            str(tmp_path / "out"),
        ],
        env={**os.environ, "DUCKDB_PATH": str(tmp_path / "absent.duckdb")},
    )
    assert done.returncode == 1
    assert "make run" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "absent.duckdb").exists()
    assert not (tmp_path / "out").exists()


def test_failing_analysis_is_named(warehouse, tmp_path, capsys):
    run, _ = warehouse
    broken = tmp_path / "broken_analysis.sql"
    broken.write_text("select no_such_column from customer_features")
    analysis = run_analyses.CompiledAnalysis(
        name="broken_analysis", folder="eda", source_file=broken, compiled_file=broken
    )
    with pytest.raises(run_analyses.AnalysisError) as error:
        run_analyses.run_analyses([analysis], run.warehouse, tmp_path / "out")
    message = str(error.value)
    assert "broken_analysis.sql" in message
    assert "no_such_column" in message
    assert "\n" not in message


def test_header_comment():
    assert (
        run_analyses.header_comment("{#- Monthly\n    revenue. -#}\nwith")
        == "Monthly revenue."
    )
    assert run_analyses.header_comment("-- One\n-- two\nselect 1") == "One two"
    assert run_analyses.header_comment("select 1") == ""
