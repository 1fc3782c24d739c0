"""Reading a Spark warehouse: reports and the mart list run as Spark SQL on a session over the
warehouse folder (valuemarts.spark.session), results as Polars frames."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from valuemarts.errors import ValueMartsError
from valuemarts.spark.session import SparkWarehouse, spark_session


def spark_report(warehouse: Path, metric: str, by: list[str], where: str | None, prop: str | None) -> pl.DataFrame:
    """`valuemarts report` on a Spark warehouse: the metric's scoring macro rendered in Spark SQL
    (its spark__ implementations) over the state Spark built, as on DuckDB.

    Parameters
    ----------
    warehouse : Path
        The Spark warehouse folder.
    metric, by, where, prop
        As for `valuemarts.api.Warehouse.report`.

    Returns
    -------
    polars.DataFrame
        One row per group, the columns of the DuckDB report.

    Raises
    ------
    ValueMartsError
        An unknown metric or column, or a warehouse that was never built.
    """
    from valuemarts.reports.query import ReportRequest, load_metrics, report_sql

    spark_warehouse = _existing(warehouse)
    key = spark_warehouse.landing_db
    sql = report_sql(load_metrics(key), ReportRequest(metric, by, where, prop), key, engine="spark")
    return _frame(spark_warehouse, sql)


def spark_marts(warehouse: Path, schemas: list[str]) -> list[tuple[str, str, int]]:
    """(schema, table, rows) of every table and view Spark holds in `schemas`, by schema and name."""
    spark_warehouse = _existing(warehouse)
    spark = spark_session(spark_warehouse)
    try:
        found = []
        for schema in schemas:
            if not spark.catalog.databaseExists(schema):
                continue
            for table in sorted(spark.catalog.listTables(schema), key=lambda t: t.name):
                rows = spark.sql(f"select count(*) from `{schema}`.`{table.name}`").first()[0]
                found.append((schema, table.name, rows))
        return found
    finally:
        spark.stop()


def _frame(warehouse: SparkWarehouse, query: str) -> pl.DataFrame:
    spark = spark_session(warehouse)
    try:
        return pl.from_arrow(spark.sql(query).toArrow())
    except Exception as exc:  # pyspark's AnalysisException and friends: report their first line
        raise ValueMartsError(f"Spark: {str(exc).splitlines()[0]}") from exc
    finally:
        spark.stop()


def _existing(warehouse: Path) -> SparkWarehouse:
    spark_warehouse = SparkWarehouse(warehouse)
    if not spark_warehouse.metastore.exists():
        raise ValueMartsError(f"{warehouse}: no Spark warehouse yet; run `valuemarts build --target spark` first")
    return spark_warehouse
