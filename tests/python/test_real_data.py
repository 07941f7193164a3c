"""`dbt build` on the real UCI Online Retail data in ../shared/data.

The build is the session's shared `real_build` (conftest.py: default
settings, every dbt test), the one real-data build of the suite."""

from __future__ import annotations

import glob

import pytest
from pipeline import REAL_DATA_GLOB

pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(
        not glob.glob(str(REAL_DATA_GLOB)),
        reason="../shared/data/online_retail is not beside the project",
    ),
]

REAL_LINES = 541_909


def test_every_real_line_is_accounted_for(real_build):
    files, read, staged, rejected = real_build.query(
        "select count(*), sum(lines_read), sum(lines_staged), sum(lines_rejected) from source_file_loads"
    )[0]
    assert files == 305
    assert read == REAL_LINES
    assert staged + rejected == REAL_LINES
    # the exact duplicates of the real data are the only rejects
    assert dict(
        real_build.query(
            "select reject_reason, count(*) from transaction_rejects group by 1"
        )
    ) == {"duplicate_line": 5268}


def test_real_data_features(real_build):
    customers, min_recency, as_of = real_build.query(
        "select count(*), min(recency_days), max(as_of_date)::varchar from customer_features"
    )[0]
    # 4,372 ids appear in the data; those with no product sale are not featurized
    assert 4300 <= customers <= 4372
    assert min_recency == 1
    assert as_of == "2011-12-10"


SEPARATION_SQL = """
with logged as (
    select
        s.segment_id,
        ln(1 + f.recency_days) as r,
        ln(1 + f.frequency) as f,
        sign(f.monetary) * ln(1 + abs(f.monetary)) as m
    from customer_segments as s
    join customer_features as f using (customer_id)
    where s.segment_id != 0
),
spread as (select stddev_samp(r) as r, stddev_samp(f) as f, stddev_samp(m) as m from logged),
means as (select segment_id, avg(r) as r, avg(f) as f, avg(m) as m from logged group by 1)
select
    a.segment_id,
    b.segment_id,
    greatest(
        abs(a.r - b.r) / spread.r, abs(a.f - b.f) / spread.f, abs(a.m - b.m) / spread.m
    )
from means as a
join means as b on a.segment_id < b.segment_id
cross join spread
order by 1, 2
"""


def test_real_data_segments_meet_the_targets(real_build):
    """At least 4 segments of 2% to 40% of the customers, each pair apart by
    0.5 SD in log recency, frequency or monetary, bootstrap ARI >= 0.8."""
    shares = [
        share
        for (share,) in real_build.query(
            "select customer_share from segment_profiles where segment_id != 0"
        )
    ]
    assert len(shares) >= 4
    assert 0.02 <= min(shares) and max(shares) <= 0.40, shares
    separations = real_build.query(SEPARATION_SQL)
    assert len(separations) == len(shares) * (len(shares) - 1) // 2
    assert all(apart >= 0.5 for _, _, apart in separations), separations
    (ari,) = real_build.query(
        "select stability_ari from segmentation_model_evaluation where is_selected"
    )[0]
    assert ari >= 0.8


def test_real_data_model_is_actionable(real_build):
    segments, smallest = real_build.query(
        "select count(*), min(customer_share) from segment_profiles where segment_id != 0"
    )[0]
    assert segments >= 3
    assert smallest >= 0.02
