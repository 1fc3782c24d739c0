"""`python -m valuemarts.spark.launcher --warehouse DIR [dbt arguments]`: dbt in a process whose
Spark session already exists.

dbt-spark's session method runs `SparkSession.builder.getOrCreate()` in the dbt process, so this
process creates the session first (valuemarts.spark.session: UTC, catalog and tables under DIR,
the valuemarts UDFs), declares the landing tables, then runs dbt programmatically with
`dbtRunner` on the same session. Without dbt arguments it only declares the landing tables
(`valuemarts load --target spark`). Exit code: dbt's (0 success, 1 failure, 2 error).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from valuemarts.spark.landing import register_landing
from valuemarts.spark.session import SparkWarehouse, spark_session


def main(argv: list[str] | None = None) -> int:
    """Create the session on the warehouse, declare its landing tables, run the dbt command.

    Parameters
    ----------
    argv : list of str, optional
        `--warehouse DIR` followed by the dbt command and its flags (none: declare only).

    Returns
    -------
    int
        0 on success, else 1 (dbt failed) or 2 (dbt could not run).
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
        if result.exception is not None:
            print(f"dbt could not run: {result.exception}", file=sys.stderr)
            return 2
        return 0 if result.success else 1
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
