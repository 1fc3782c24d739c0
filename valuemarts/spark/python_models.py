"""dbt Python models on Spark, run by valuemarts: dbt-spark's session method can't run them.

The launcher (valuemarts.spark.launcher) calls each model's `model(dbt, session)` itself, on its
Spark session, with a small shim for what the models use of dbt's: `dbt.ref(name)`, read from
Spark as Arrow and offered with the `.pl()` and `.project(columns)` of the DuckDB relation
dbt-duckdb gives; `dbt.config(...)`; `dbt.this`; and `dbt.is_incremental`, always False because
every model is rebuilt in full on Spark. `session` is the Spark session, as dbt-spark gives its
Python models. So the model files stay engine-neutral: one copy, run by dbt on DuckDB and by this
module on Spark. The Polars frame a model returns is written where dbt would have put it: the
manifest's schema and alias for the node, in the node's file format.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from valuemarts.spark.dialect import spark_select_list
from valuemarts.sql_names import quote_spark_ident

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def spark_relation(node: dict[str, Any]) -> str:
    """The quoted `schema`.`table` where dbt puts a manifest node on Spark."""
    return f"{quote_spark_ident(node['schema'])}.{quote_spark_ident(node['alias'])}"


@dataclass(frozen=True)
class SparkRef:
    """A model's `dbt.ref(...)` on Spark: a table, optionally projected, read when asked for.

    Rows are sorted on every column when read: Spark returns a table's rows in an order that
    depends on its files and tasks, and sums in another order move doubles in the last digits, so
    sorted, every build feeds a model the same input (DuckDB's order is another one: README
    "Running on Spark", Numbers).
    """

    spark: SparkSession
    relation: str
    columns: tuple[str, ...] = ()

    def project(self, columns: str) -> SparkRef:
        """Only `columns`, a DuckDB select list (`'a, "T"'`), as DuckDB's `relation.project`."""
        return SparkRef(self.spark, self.relation, tuple(spark_select_list(columns)))

    def pl(self) -> pl.DataFrame:
        """The rows as a Polars frame, through Arrow, as DuckDB's `relation.pl()`."""
        table = self.spark.table(self.relation)
        if self.columns:
            table = table.selectExpr(*self.columns)
        frame = pl.from_arrow(table.toArrow())
        return frame.sort(frame.columns, nulls_last=True)


class ModelContext:
    """The `dbt` object a Python model gets, for one manifest node on Spark."""

    is_incremental = False  # every model is rebuilt in full on Spark (README "Running on Spark")

    def __init__(self, spark: SparkSession, node: dict[str, Any], nodes: dict[str, dict[str, Any]]):
        self._spark = spark
        self._refs = {nodes[uid]["name"]: spark_relation(nodes[uid]) for uid in node["depends_on"]["nodes"]}
        self.this = spark_relation(node)

    def config(self, **_settings: Any) -> None:
        """A model's settings, which dbt reads when it parses the file; the manifest has them."""

    def ref(self, name: str) -> SparkRef:
        """The model (or seed) `name`, one the node depends on."""
        if name not in self._refs:
            raise KeyError(f"{self.this}: ref({name!r}) is not among the model's dependencies")
        return SparkRef(self._spark, self._refs[name])


def run_python_model(spark: SparkSession, node: dict[str, Any], nodes: dict[str, dict[str, Any]],
                     project: Path) -> None:
    """Run one dbt Python model on Spark and write its table (replacing the previous one).

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The launcher's session, on the warehouse.
    node : dict
        The model's manifest node (manifest.json's `nodes` entry).
    nodes : dict
        Every manifest node by unique id, to find where the model's refs are.
    project : Path
        The dbt project folder the node's file path is relative to.

    Raises
    ------
    TypeError
        The model returned something else than a Polars frame.
    """
    path = project / node["original_file_path"]
    spec = importlib.util.spec_from_file_location(f"valuemarts_spark_model_{node['name']}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame = module.model(ModelContext(spark, node, nodes), spark)
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"{path}: model() returned {type(frame).__name__}; valuemarts writes Polars frames on Spark")
    spark.sql(f"create schema if not exists {quote_spark_ident(node['schema'])}")
    (spark.createDataFrame(frame.to_arrow()).write.mode("overwrite")
     .format(node["config"].get("file_format") or "parquet").saveAsTable(spark_relation(node)))
