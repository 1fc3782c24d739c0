"""Landing on Spark: the export files are loaded and validated by the DuckDB loader, exactly as on
DuckDB, into the warehouse's loads.duckdb; its landing tables are then written as parquet, which
the Spark catalog names `landing.*` (external tables, re-declared on every session)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from valuemarts.duck import connect
from valuemarts.errors import ValueMartsError
from valuemarts.ingest.landing import LANDING_SCHEMA
from valuemarts.sql_names import quote_ident, quote_string
from valuemarts.spark.session import SparkWarehouse

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The landing tables dbt reads (models/staging/pega/_pega__sources.yml), by table name.
LANDING_TABLES = ("ih_raw", "holdings_raw", "_load_log")


def export_landing(warehouse: SparkWarehouse) -> None:
    """Write each landing table of `warehouse.landing_db` as parquet under `warehouse.landing_parquet`,
    replacing the previous copy (one file per table: Spark reads the folder).

    Examples
    --------
    >>> export_landing(SparkWarehouse(Path("data/spark")))  # doctest: +SKIP
    """
    con = connect(warehouse.landing_db, read_only=True)
    try:
        for table in LANDING_TABLES:
            folder = warehouse.landing_parquet / table
            folder.mkdir(parents=True, exist_ok=True)
            written = folder / "part-0.parquet"
            partial = folder / ".part-0.parquet.writing"
            con.execute(f"copy (select * from {LANDING_SCHEMA}.{quote_ident(table)}) "
                        f"to {quote_string(str(partial))} (format parquet)")
            partial.replace(written)
    finally:
        con.close()


def register_landing(spark: SparkSession, warehouse: SparkWarehouse) -> None:
    """Declare the parquet landing tables in the session's catalog as `landing.<table>` (external:
    dropping one never deletes the files), afresh, so new columns of a later load are seen.

    Raises
    ------
    ValueMartsError
        The warehouse has not been loaded yet.
    """
    missing = [t for t in LANDING_TABLES if not (warehouse.landing_parquet / t / "part-0.parquet").exists()]
    if missing:
        raise ValueMartsError(f"{warehouse.root}: no landing tables yet; load export files first: "
                              "`valuemarts load --target spark --warehouse DIR --config CONFIG.toml --ih PATH ...`")
    spark.sql(f"create schema if not exists {LANDING_SCHEMA}")
    for table in LANDING_TABLES:
        name = f"{LANDING_SCHEMA}.`{table}`"
        spark.sql(f"drop table if exists {name}")
        location = Path(warehouse.landing_parquet / table).absolute()
        spark.sql(f"create table {name} using parquet location '{location}'")
