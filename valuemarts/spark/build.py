"""`valuemarts load --target spark` and `valuemarts build --target spark`.

Loading is the DuckDB loader's (valuemarts.build.load: the same discovery, validation, load log,
lock and run ledger) into the warehouse's loads.duckdb, then its landing tables written as parquet
for Spark. A build loads, then runs `dbt build --selector spark` in the launcher process, which
goes on with the dbt Python models that selector leaves out and what is built from them
(valuemarts.spark.launcher): every model, each in full (Spark without Delta or Iceberg can't
delete rows, so nothing is incremental there). Spark writes its tables in place: unlike DuckDB's
file swap, a failed Spark build leaves the models it did not reach as the previous build left them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import yaml

from valuemarts.build import BuildSummary, load
from valuemarts.dbt_runner import run_dbt
from valuemarts.interrupts import stop_signals_raise
from valuemarts.paths import compiled_dir
from valuemarts.spark.dialect import spark_vars
from valuemarts.spark.landing import export_landing
from valuemarts.spark.session import SparkWarehouse
from valuemarts.warehouse_lock import exclusive_lock


def load_spark(config: Path, warehouse: Path, ih_paths: list[str] | None = None,
               holdings_paths: list[str] | None = None, log: Callable[[str], None] = print,
               wait: bool = False) -> BuildSummary:
    """Land new export files in a Spark warehouse: validated and logged by the DuckDB loader, then
    written as the parquet landing tables Spark reads (`landing.ih_raw`, ...).

    Parameters
    ----------
    config : Path
        The TOML config.
    warehouse : Path
        The Spark warehouse folder (created when absent).
    ih_paths, holdings_paths : list of str, optional
        As for `valuemarts.build.load`; None reuses the last load's paths.
    log : callable
        Receives progress lines.
    wait : bool
        Wait for a build or load running on the same warehouse instead of stopping at once.

    Returns
    -------
    BuildSummary
        Files and rows, as from a DuckDB load; `warehouse` is the folder.

    Examples
    --------
    >>> load_spark(Path("config.toml"), Path("data/spark"), ["exports/ih"])  # doctest: +SKIP
    """
    spark_warehouse = SparkWarehouse(warehouse)
    started = time.monotonic()
    with exclusive_lock(spark_warehouse.tables, wait=wait, log=log), stop_signals_raise():
        summary = _land(config, spark_warehouse, ih_paths, holdings_paths, log)
    summary.seconds = time.monotonic() - started
    return summary


def build_spark(config: Path, warehouse: Path, ih_paths: list[str] | None = None,
                holdings_paths: list[str] | None = None, full_refresh: bool = False,
                log: Callable[[str], None] = print, wait: bool = False, data_tests: bool = True) -> BuildSummary:
    """Load new files into a Spark warehouse and build its models on Spark, all in full.

    Same arguments as `load_spark`; `full_refresh` reloads every file as well (the models are
    always rebuilt in full on Spark). `data_tests` False builds the seeds and models without dbt's data
    tests: each test is a Spark job of its own, about a third of a small build's time; the
    equality test against DuckDB, whose build runs them, uses it.

    Raises
    ------
    ValueMartsError
        A bad config or file (nothing lands), another build holding the lock, or dbt failing.

    Examples
    --------
    >>> build_spark(Path("config.toml"), Path("data/spark"), ["exports/ih"], ["exports/holdings"])  # doctest: +SKIP
    """
    spark_warehouse = SparkWarehouse(warehouse)
    started = time.monotonic()
    with exclusive_lock(spark_warehouse.tables, wait=wait, log=log), stop_signals_raise():
        if full_refresh:
            for path in (spark_warehouse.landing_db, spark_warehouse.landing_db.with_name("loads.duckdb.wal")):
                path.unlink(missing_ok=True)
        summary = _land(config, spark_warehouse, ih_paths, holdings_paths, log)
        log("running dbt build on Spark (every model in full)")
        compiled = yaml.safe_load((compiled_dir(spark_warehouse.landing_db) / "vars.yml").read_text())["valuemarts"]
        skipped = ["unit_test"] if data_tests else ["unit_test", "test"]
        excluded = [flag for kind in skipped for flag in ("--exclude-resource-type", kind)]
        result = run_dbt(["build", *excluded, "--selector", "spark", "--full-refresh"],
                         spark_warehouse.landing_db, spark_vars(compiled), log=log, target="spark")
        summary.models_built = result.models_built
    summary.seconds = time.monotonic() - started
    return summary


def _land(config: Path, warehouse: SparkWarehouse, ih_paths: list[str] | None, holdings_paths: list[str] | None,
          log: Callable[[str], None]) -> BuildSummary:
    summary = load(config, warehouse.landing_db, ih_paths, holdings_paths, log=log)
    if summary.changed_sources or not (warehouse.landing_parquet / "ih_raw").exists():
        export_landing(warehouse)
    summary.warehouse = warehouse.root
    return summary
