"""Benchmark: BG/NBD fit time and parameter recovery on 100k and 1M simulated customers.

Customers are drawn from the BG/NBD generative process with the CDNOW parameters (weeks), as a
quarter's acquisition cohort (first purchase uniform over 91 days) observed to day 272, like the
CDNOW calibration period. Each size is fitted twice:

* continuous: t_x as simulated (worst case for grouping; only one-time buyers share rows);
* daily: t_x truncated to whole days, as a summary built from purchase dates is (same-day repeat
  purchases are not merged here, which slightly inflates x; recovery is reported for both).

Also times the 52-week weekly-discounted CLV for all customers. Prints a table and writes
bench/results/clv_fit.json.

    .venv/bin/python bench/clv_fit.py [--sizes 100000 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import scipy

from python_udfs.clv import bgnbd, fit, value

TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
END_DAY = 272
COHORT_DAYS = 91
RESULTS = Path(__file__).parent / "results" / "clv_fit.json"


def simulate(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T) in weeks for n customers of one acquisition quarter."""
    T = (END_DAY - rng.integers(0, COHORT_DAYS, n)) / 7.0
    x, t_x = bgnbd.simulate(TRUTH, T, rng)
    return x, t_x, T


def run(label: str, n: int, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> dict:
    start = time.perf_counter()
    distinct = len(fit.group_rows([x.astype(np.float64), t_x, T])[1])
    grouped = time.perf_counter()
    result = bgnbd.fit(x, t_x, T)
    done = time.perf_counter()
    weekly = value.rate_per_period(0.1, 1.0, "weeks")
    clv = value.clv(TRUTH, x, t_x, T, np.ones(n), horizon=52.0, discount_rate=weekly)
    scored = time.perf_counter()
    assert np.isfinite(clv).all()
    return {
        "data": label,
        "n_customers": n,
        "distinct_rows": distinct,
        "group_s": round(grouped - start, 3),
        "fit_s": round(done - start, 3),  # includes the grouping done inside fit
        "iterations": result.iterations,
        "converged": result.converged,
        "log_likelihood": round(result.log_likelihood, 2),
        "params": {k: round(v, 4) for k, v in result.params.items()},
        "rel_error": {k: round(result.params[k] / TRUTH[k] - 1.0, 4) for k in TRUTH},
        "clv_52w_s": round(scored - done, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rows = []
    for n in args.sizes:
        rng = np.random.default_rng(args.seed)
        t0 = time.perf_counter()
        x, t_x, T = simulate(n, rng)
        print(f"simulated {n:,} customers in {time.perf_counter() - t0:.2f}s")
        rows.append(run("continuous", n, x, t_x, T))
        rows.append(run("daily", n, x, np.floor(t_x * 7.0) / 7.0, T))

    params = "".join(f"{k:>14}" for k in TRUTH)
    print(f"{'data':<11}{'customers':>11}{'distinct':>10}{'fit s':>8}{'iters':>6}  {params}{'clv s':>7}")
    for row in rows:
        cells = "".join(f"{row['params'][k]:>8.4f}{row['rel_error'][k]:>+6.1%}" for k in TRUTH)
        print(
            f"{row['data']:<11}{row['n_customers']:>11,}{row['distinct_rows']:>10,}{row['fit_s']:>8.2f}"
            f"{row['iterations']:>6}  {cells}{row['clv_52w_s']:>7.2f}"
        )
    print("truth:", TRUTH)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "truth": TRUTH,
        "seed": args.seed,
        "design": f"cohort first purchase uniform over {COHORT_DAYS} days, observed to day {END_DAY}, weeks",
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                    "cpu": platform.processor() or platform.machine()},
        "runs": rows,
    }, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
