"""CLV benchmark: time to summarise, fit and value 100k and 1M customers through the marts' code path.

Holdings come from the demo generator (BG/NBD purchases, Gamma-Gamma spend, two years). Each stage
runs what the build runs: the SQL macros of int_clv__customer_summary (observation window, purchase
periods, summary) in DuckDB, then `population.fit_models` (int_clv__model_fits), then
`population.customer_values` (int_clv__customer_values), then one champion training of the
prediction engine at the default windows without a grid (mart_clv__model_cards). dbt's own
overhead is left out: it does not grow with the data.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from python_udfs.clv.engine import champion, population
from python_udfs.clv.engine.settings import ClvSettings
from valuemarts.bench.measure import write_result
from valuemarts.config.compiler import compile_config
from valuemarts.demo import generate_holdings
from valuemarts.reports.templates import render

START, END = date(2022, 1, 1), date(2024, 1, 1)
KEYS = ["metric_name", "customer_key"]
COLUMNS = ["customers", "holdings", "summary_s", "fit_s", "values_s", "train_s", "bgnbd_iterations",
           "converged", "r", "alpha", "a", "b"]


def metric() -> dict:
    """The default CLV metric, as compiled from a config naming only its columns (no window grid)."""
    raw = {"ih": {"file_type": "parquet"}, "holdings": {"file_type": "csv"},
           "metrics": {"global_filters": [], "clv": {"group_by": [], "customer_id_col": "CustomerID",
                                                      "grid_history_months": [12]}}}
    return compile_config(raw, check_columns=False).dbt_vars["metrics"]["clv"]


def purchases(holdings: pl.DataFrame) -> pl.DataFrame:
    """Holdings mapped as int_clv__purchases maps them (before its window)."""
    return holdings.select(
        metric_name=pl.lit("clv"), customer_key=pl.col("CustomerID"), customer_id=pl.col("CustomerID"),
        holding_id=pl.col("pxHoldingID"),
        purchase_date=pl.col("pyPurchasedDate").str.slice(0, 8).str.strptime(pl.Date, "%Y%m%d"),
        spend=pl.col("OneTimeCost"), recurring_cost=pl.lit(None, pl.Float64), recurring_period=pl.lit(None, pl.Float64))


def measure_size(customers: int, seed: int) -> list:
    config = metric()
    settings = ClvSettings.from_config(config)
    holdings = generate_holdings(seed=seed, customers=customers, start=START, end=END)
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.register("purchases", purchases(holdings))

    began = time.perf_counter()
    con.execute(f"create table in_window as {render('clv_purchases_in_window', 'purchases', [config])}")
    con.execute(f"create table periods as {render('clv_purchase_periods', 'in_window', KEYS)}")
    summary = con.execute(render("clv_customer_summary", "periods", KEYS)).pl()
    summarised = time.perf_counter()
    results = population.fit_models(summary, pl.DataFrame(), settings)
    fitted = time.perf_counter()
    fits = population.fits_frame(results, settings, summary["observation_end"].max())
    values = population.customer_values(summary, pl.DataFrame(), fits, settings)
    valued = time.perf_counter()
    periods = con.execute("select customer_key, purchase_date, spend from periods").pl()
    champion.train_champion(periods, settings, summary["observation_end"].max())
    trained = time.perf_counter()

    assert values.height == summary.height == customers
    bgnbd = next(r for r in results if r.model == "bgnbd")
    return [customers, holdings.height, round(summarised - began, 2), round(fitted - summarised, 2),
            round(valued - fitted, 2), round(trained - valued, 2), bgnbd.iterations,
            all(r.converged for r in results), *(round(bgnbd.params[k], 4) for k in ("r", "alpha", "a", "b"))]


def run(sizes: tuple[int, ...] = (100_000, 1_000_000), seed: int = 1) -> Path:
    """Print the table and write bench/results/clv.json."""
    rows = [measure_size(n, seed) for n in sizes]
    return write_result("clv", COLUMNS, rows, {
        "seed": seed,
        "data": f"demo holdings {START} to {END}, BG/NBD purchases and Gamma-Gamma spend near CDNOW",
        "stages": {"summary_s": "SQL macros: window, purchase periods, summary",
                   "fit_s": "BG/NBD and Gamma-Gamma MLE on all customers",
                   "values_s": "expected purchases and CLV over 12 months",
                   "train_s": "prediction engine: baseline and gradient boosting, 3-fold holdout"},
    })
