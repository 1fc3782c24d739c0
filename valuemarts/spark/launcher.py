"""`python -m valuemarts.spark.launcher --warehouse DIR [dbt arguments]`: dbt in a process whose
Spark session already exists.

dbt-spark's session method runs `SparkSession.builder.getOrCreate()` in the dbt process, so this
process creates the session first (valuemarts.spark.session: UTC, catalog and tables under DIR,
the valuemarts UDFs), declares the landing tables, then runs dbt programmatically with
`dbtRunner` on the same session. Without dbt arguments it only declares the landing tables
(`valuemarts load --target spark`).

A `build --selector spark` (what `valuemarts build --target spark` runs) goes on with what that
selector leaves out, in dependency order (valuemarts.spark.plan): the dbt Python models, run here
by valuemarts (valuemarts.spark.python_models), and the models and tests built from them, by dbt
invocations with the same flags and `--select` of those nodes. Then the CLV model cards and drift
alerts are written from the marts (valuemarts.clv_files), as after a DuckDB build. Each dbt
invocation records a build in `landing._builds` (macros/warehouse_guard.sql), which nothing reads
on Spark. Exit code: dbt's (0 success, 1 failure, 2 error); a Python model that fails is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from valuemarts.spark.landing import register_landing
from valuemarts.spark.plan import left_out_steps
from valuemarts.spark.python_models import run_python_model
from valuemarts.spark.session import SparkWarehouse, spark_session

if TYPE_CHECKING:
    from dbt.artifacts.schemas.run import RunExecutionResult
    from dbt.cli.main import dbtRunnerResult
    from pyspark.sql import SparkSession

# The dbt selection of what dbt-spark can build (selectors.yml); the launcher builds the rest.
SPARK_SELECTION = ["--selector", "spark"]


def main(argv: list[str] | None = None) -> int:
    """Create the session on the warehouse, declare its landing tables, run the dbt command.

    Parameters
    ----------
    argv : list of str, optional
        `--warehouse DIR` followed by the dbt command and its flags (none: declare only).

    Returns
    -------
    int
        0 on success, else 1 (dbt or a Python model failed) or 2 (dbt could not run).
    """
    parser = argparse.ArgumentParser(prog="python -m valuemarts.spark.launcher")
    parser.add_argument("--warehouse", type=Path, required=True, help="the Spark warehouse folder")
    args, dbt_args = parser.parse_known_args(argv)
    warehouse = SparkWarehouse(args.warehouse.absolute())
    spark = spark_session(warehouse)
    try:
        register_landing(spark, warehouse)
        if not dbt_args:
            return 0
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(dbt_args)
        code = _exit_code(result)
        if code == 0 and result.result.args["which"] == "build" and _selection_at(dbt_args) is not None:
            code = _build_left_out(spark, warehouse, dbt_args, result.result)
        return code
    finally:
        spark.stop()


def _build_left_out(spark: SparkSession, warehouse: SparkWarehouse, dbt_args: list[str],
                    first: RunExecutionResult) -> int:
    """Build what the `spark` selection left out (module docstring); 0 when all of it is built."""
    from dbt.cli.main import dbtRunner

    project = Path(first.args["project_dir"])
    nodes = json.loads((project / first.args["target_path"] / "manifest.json").read_text())["nodes"]
    steps = left_out_steps(nodes, {result.node.unique_id for result in first.results})
    python_total = sum(1 for step in steps if step.python_model is not None)
    python_done = 0
    for step in steps:
        if step.python_model is None:
            code = _exit_code(dbtRunner().invoke(reselected(dbt_args, step.dbt_names)))
        else:
            python_done += 1
            code = _run_python(spark, step.python_model, nodes, project, f"{python_done} of {python_total}")
        if code != 0:
            return code
    if steps:
        from valuemarts.clv_files import write_clv_files, written_line  # pulls in scikit-learn: only when CLV files are written

        written = write_clv_files(warehouse.landing_db, query=lambda sql: pl.from_arrow(spark.sql(sql).toArrow()))
        if written:
            print(written_line(written), flush=True)
    return 0


def _run_python(spark: SparkSession, node: dict[str, Any], nodes: dict[str, dict[str, Any]], project: Path,
                position: str) -> int:
    """Run one Python model, reporting it in dbt's line format (valuemarts.dbt_runner.progress_line reads it)."""
    name = f"{node['schema']}.{node['alias']}"
    started = time.monotonic()
    try:
        run_python_model(spark, node, nodes, project)
    except Exception:
        print(f"{_clock()}  {position} ERROR creating python table model {name} "
              f"[ERROR in {time.monotonic() - started:.2f}s]\nError in python model {name}:\n{traceback.format_exc()}",
              flush=True)
        return 1
    print(f"{_clock()}  {position} OK created python table model {name} [OK in {time.monotonic() - started:.2f}s]",
          flush=True)
    return 0


def _selection_at(dbt_args: list[str]) -> int | None:
    """Where `--selector spark` is in the dbt arguments, if it is."""
    for at in range(len(dbt_args) - 1):
        if dbt_args[at:at + 2] == SPARK_SELECTION:
            return at
    return None


def reselected(dbt_args: list[str], names: tuple[str, ...]) -> list[str]:
    """The same dbt command and flags, selecting `names` instead of the `spark` selector."""
    at = _selection_at(dbt_args)
    return [*dbt_args[:at], "--select", *names, *dbt_args[at + len(SPARK_SELECTION):]]


def _exit_code(result: dbtRunnerResult) -> int:
    if result.exception is not None:
        print(f"dbt could not run: {result.exception}", file=sys.stderr)
        return 2
    return 0 if result.success else 1


def _clock() -> str:
    return datetime.now().strftime("%H:%M:%S")


if __name__ == "__main__":
    sys.exit(main())
