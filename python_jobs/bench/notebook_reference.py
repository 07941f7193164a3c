"""REFERENCE ONLY - not part of the pipeline: the pandas notebook of issue 7.

What a competent analyst's notebook does with the same files, written the
way such notebooks are written (pandas all the way, vectorized, no
per-customer Python loops) so the comparison is fair to it:

1. read: ``pd.read_csv`` of every file (or ``pd.read_parquet``), concatenated;
2. clean: coerce the types (a dirty value becomes missing), drop lines
   without ``CustomerID`` (or date, quantity, price), cancellations (``InvoiceNo``
   starting with ``C``), non-positive quantity or price, exact duplicates;
3. RFM: one groupby per customer - recency (days from the last purchase to
   the day after the last date in the data), frequency (distinct invoices),
   monetary (sum of quantity x price);
4. ``StandardScaler`` on ``log1p`` of the three;
5. ``KMeans`` for k = 2..10 (``n_init=10``, fixed ``random_state``), each
   scored with ``silhouette_score`` on a seeded sample of 10,000 customers;
   the best silhouette picks k.

Run as a script it prints one JSON line with the phase times, the customers,
the chosen k and every k's silhouette; the harness runs it in a subprocess
and measures its wall time and peak memory like the ``dbt build``.

    python python_jobs/bench/notebook_reference.py 'data/raw/*.csv.gz'
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time

K_RANGE = range(2, 11)
SILHOUETTE_SAMPLE = 10_000
RANDOM_STATE = 42


def run(pattern: str) -> dict:
    started = time.perf_counter()
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    phases: dict[str, float] = {}
    mark = time.perf_counter()
    phases["import"] = mark - started

    files = sorted(glob.glob(pattern))
    if not files:
        raise SystemExit(f"no file matches {pattern}")
    if pattern.endswith(".parquet"):
        df = pd.concat((pd.read_parquet(f) for f in files), ignore_index=True)
    else:
        df = pd.concat(
            (pd.read_csv(f, dtype={"InvoiceNo": str, "StockCode": str}) for f in files),
            ignore_index=True,
        )
    lines = len(df)
    # what a careful notebook does with a dirty export; free on clean columns
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"], errors="coerce")
    for column in ("Quantity", "UnitPrice", "CustomerID"):
        df[column] = pd.to_numeric(df[column], errors="coerce")
    phases["read"] = time.perf_counter() - mark
    mark = time.perf_counter()

    df = df.dropna(subset=["CustomerID", "InvoiceDate", "Quantity", "UnitPrice"])
    df = df[~df["InvoiceNo"].astype(str).str.startswith("C")]
    df = df[(df["Quantity"] > 0) & (df["UnitPrice"] > 0)]
    df = df.drop_duplicates()
    df["TotalPrice"] = df["Quantity"] * df["UnitPrice"]
    phases["clean"] = time.perf_counter() - mark
    mark = time.perf_counter()

    snapshot = df["InvoiceDate"].max().normalize() + pd.Timedelta(days=1)
    rfm = df.groupby("CustomerID").agg(
        LastPurchase=("InvoiceDate", "max"),
        Frequency=("InvoiceNo", "nunique"),
        Monetary=("TotalPrice", "sum"),
    )
    rfm["Recency"] = (snapshot - rfm["LastPurchase"].dt.normalize()).dt.days
    rfm = rfm[["Recency", "Frequency", "Monetary"]]
    phases["rfm"] = time.perf_counter() - mark
    mark = time.perf_counter()

    X = StandardScaler().fit_transform(np.log1p(rfm.clip(lower=0)))
    silhouettes = {}
    for k in K_RANGE:
        labels = KMeans(n_clusters=k, n_init=10, random_state=RANDOM_STATE).fit_predict(
            X
        )
        silhouettes[k] = float(
            silhouette_score(
                X,
                labels,
                sample_size=min(SILHOUETTE_SAMPLE, len(X)),
                random_state=RANDOM_STATE,
            )
        )
    best_k = max(silhouettes, key=silhouettes.get)
    phases["kmeans"] = time.perf_counter() - mark
    return {
        "lines": lines,
        "customers": len(rfm),
        "best_k": best_k,
        "best_silhouette": round(silhouettes[best_k], 4),
        "silhouettes": {str(k): round(s, 4) for k, s in silhouettes.items()},
        "phase_seconds": {name: round(s, 3) for name, s in phases.items()},
        "seconds": round(time.perf_counter() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pattern", help="glob of the raw CSV(.gz) or Parquet files")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.pattern)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
