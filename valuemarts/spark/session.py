"""The Spark session a Spark warehouse is built and read with: local, UTC, its catalog and tables
under the warehouse folder, DuckDB's NULL-on-error semantics, and the valuemarts UDFs."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from valuemarts.errors import ValueMartsError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class SparkWarehouse:
    """Where a Spark warehouse keeps each part, under one folder (valuemarts.spark).

    Examples
    --------
    >>> SparkWarehouse(Path("/data/spark")).landing_db
    PosixPath('/data/spark/loads.duckdb')
    """

    root: Path

    @property
    def landing_db(self) -> Path:
        """The DuckDB file the loader lands and validates export files in."""
        return self.root / "loads.duckdb"

    @property
    def landing_parquet(self) -> Path:
        """The landing tables as parquet, one folder per table, read by Spark."""
        return self.root / "landing"

    @property
    def tables(self) -> Path:
        """spark.sql.warehouse.dir: the tables dbt builds."""
        return self.root / "spark-warehouse"

    @property
    def metastore(self) -> Path:
        """The embedded Derby catalog naming the schemas and tables."""
        return self.root / "metastore_db"


def spark_session(warehouse: SparkWarehouse) -> SparkSession:
    """The process's Spark session on `warehouse`, created with the valuemarts settings and UDFs.

    Settings: timestamps in UTC (as DuckDB's TIMESTAMPTZ read in UTC), ANSI mode off (a failed
    cast or a division by zero is NULL, as the models expect from DuckDB's try_ casts and nullif),
    new tables as parquet, the catalog in the warehouse's own Derby database, no web UI. The driver
    memory is VALUEMARTS_SPARK_MEMORY (default 2g) and the master VALUEMARTS_SPARK_MASTER
    (default local[*]). Only one process at a time may open a warehouse (Derby's rule).

    Parameters
    ----------
    warehouse : SparkWarehouse
        The warehouse folder; created when absent.

    Returns
    -------
    pyspark.sql.SparkSession
        The session, which dbt-spark's session method picks up with `getOrCreate()`.

    Raises
    ------
    ValueMartsError
        pyspark is not installed (the `[spark]` extra).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ValueMartsError("--target spark needs the [spark] extra: pip install 'valuemarts[spark]'") from exc
    import python_udfs.spark_udfs

    warehouse.root.mkdir(parents=True, exist_ok=True)
    # The UDFs run in Python workers, which must be this interpreter (its venv has pyarrow, scipy).
    os.environ["PYSPARK_PYTHON"] = sys.executable
    derby_home = f"-Dderby.system.home={warehouse.root.absolute()}"
    spark = (
        SparkSession.builder
        .master(os.environ.get("VALUEMARTS_SPARK_MASTER", "local[*]"))
        .appName("valuemarts")
        .config("spark.driver.memory", os.environ.get("VALUEMARTS_SPARK_MEMORY", "2g"))
        .config("spark.driver.extraJavaOptions", derby_home)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.sources.default", "parquet")
        .config("spark.sql.legacy.createHiveTableByDefault", "false")
        .config("spark.sql.warehouse.dir", str(warehouse.tables.absolute()))
        .config("spark.hadoop.javax.jdo.option.ConnectionURL",
                f"jdbc:derby:;databaseName={warehouse.metastore.absolute()};create=true")
        # The demo's and most appends' data are small: few shuffle partitions, merged further by
        # adaptive execution; large histories raise it with VALUEMARTS_SPARK_SHUFFLE_PARTITIONS.
        .config("spark.sql.shuffle.partitions", os.environ.get("VALUEMARTS_SPARK_SHUFFLE_PARTITIONS", "4"))
        .enableHiveSupport()
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    # pyspark logs every failed statement with its whole Java stack; dbt reports the error itself.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    python_udfs.spark_udfs.register(spark)
    return spark
