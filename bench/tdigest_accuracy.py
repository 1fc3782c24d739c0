"""How accurate and how fast is our t-digest? Prints a table, writes results/tdigest_accuracy.json.

Rank error of p25/p50/p75/p90/p95 against the raw sorted sample (docs/metrics.md#descriptive promises 1%):
distance from q to the ECDF interval [#(x < est)/n, #(x <= est)/n], i.e. |ECDF(est) − q| without
ties. Each case is measured for one digest of the whole sample and for a digest merged from 1,000
random groups of uneven size. Timing is the SQL path: 1M values in 50k groups through DuckDB.

Run: .venv/bin/python bench/tdigest_accuracy.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import numpy as np

import python_udfs
from python_udfs import tdigest as td

QS = np.array([0.25, 0.5, 0.75, 0.9, 0.95])
SIZES = [10_000, 1_000_000]
GROUPS = 1_000
OUT = Path(__file__).parent / "results" / "tdigest_accuracy.json"


def sample(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if name == "uniform":
        return rng.uniform(0, 1, n)
    if name == "propensity (Beta(1,40))":  # CDH propensities, ~87% below 0.05
        return rng.beta(1, 40, n)
    if name == "lognormal(0,2)":
        return rng.lognormal(0, 2, n)
    if name == "40% at 0 + exponential":
        return np.where(rng.random(n) < 0.4, 0.0, rng.exponential(3, n))
    if name == "integers, heavy ties":
        return np.minimum(rng.geometric(0.02, n), 400).astype(float)
    raise ValueError(name)


DISTRIBUTIONS = [
    "uniform",
    "propensity (Beta(1,40))",
    "lognormal(0,2)",
    "40% at 0 + exponential",
    "integers, heavy ties",
]


def rank_error(sorted_x: np.ndarray, estimates: np.ndarray) -> np.ndarray:
    below = np.searchsorted(sorted_x, estimates, "left") / len(sorted_x)
    at_or_below = np.searchsorted(sorted_x, estimates, "right") / len(sorted_x)
    return np.maximum(0.0, np.maximum(below - QS, QS - at_or_below))


def accuracy(rng: np.random.Generator) -> list[dict]:
    rows = []
    for name in DISTRIBUTIONS:
        for n in SIZES:
            x = sample(name, n, rng)
            share = rng.lognormal(0, 1.5, GROUPS)
            groups = rng.choice(GROUPS, n, p=share / share.sum())
            xs = np.sort(x)
            merged = td.merge(td.build_groups(x, groups, GROUPS))
            for mode, digest in (("single", td.build(x)), ("merged", merged)):
                err = rank_error(xs, digest.quantiles(QS))
                rows.append(
                    {
                        "distribution": name,
                        "n": n,
                        "digest": mode,
                        "max_rank_error": float(err.max()),
                        "rank_error": dict(zip([f"p{round(q * 100)}" for q in QS], err.tolist())),
                        "centroids": len(digest.means),
                        "bytes": len(digest.to_bytes()),
                    }
                )
    return rows


def timing(rng: np.random.Generator, repeats: int = 3) -> dict:
    """Best-of-`repeats` seconds for each SQL step on 1M lognormal values in 50k groups."""
    con = python_udfs.register(duckdb.connect())
    n, groups = 1_000_000, 50_000
    con.execute(
        "create table t as select * from (select unnest($x) x, unnest($g) g)",
        {"x": rng.lognormal(0, 1, n), "g": rng.integers(0, groups, n)},
    )
    steps = {
        "list(x) per group only (baseline)": "create or replace table l as select g, list(x) from t group by g",
        "tdigest_build(list(x)) per group": (
            "create or replace table d as select g, tdigest_build(list(x)) d from t group by g"
        ),
        "tdigest_merge of the 50k digests": "select tdigest_merge(list(d)) from d",
        "tdigest_quantile on the 50k digests": "select sum(tdigest_quantile(d, 0.5)) from d",
        "exact quantile_cont per group (for scale)": "select g, quantile_cont(x, 0.5) from t group by g",
    }
    seconds = {}
    for label, sql in steps.items():
        best = np.inf
        for _ in range(repeats):
            start = time.perf_counter()
            con.execute(sql).fetchall()
            best = min(best, time.perf_counter() - start)
        seconds[label] = best
    return {"values": n, "groups": groups, "seconds": seconds}


def main() -> None:
    rng = np.random.default_rng(20240115)
    rows = accuracy(rng)
    times = timing(rng)
    header = ("distribution", "n", "digest", "max rank err", "worst q", "centroids", "bytes")
    print("{:<26}{:>10}  {:<8}{:>13}  {:<8}{:>9}{:>8}".format(*header))
    for r in rows:
        worst = max(r["rank_error"], key=r["rank_error"].get)
        print(
            f"{r['distribution']:<26}{r['n']:>10,}  {r['digest']:<8}{r['max_rank_error']:>13.2e}  {worst:<8}"
            f"{r['centroids']:>9}{r['bytes']:>8}"
        )
    print(f"\nDuckDB SQL, {times['values']:,} values in {times['groups']:,} groups (best of 3):")
    for label, s in times["seconds"].items():
        print(f"  {label:<45}{s:>7.2f} s")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "compression": td.DEFAULT_COMPRESSION,
        "quantiles": QS.tolist(),
        "merged_groups": GROUPS,
        "accuracy": rows,
        "timing": times,
    }
    OUT.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main()
