"""The dbt project on Spark (README "Running on Spark"): local PySpark through dbt-spark's
`session` method, from the same model files as on DuckDB.

A Spark warehouse is a folder (`--warehouse DIR` with `--target spark`):

    DIR/loads.duckdb         the landing tables and load log, loaded and validated by the DuckDB
                             loader exactly as on DuckDB (valuemarts.build.load)
    DIR/landing/             those landing tables as parquet, which Spark reads as `landing.*`
    DIR/spark-warehouse/     the Spark tables dbt builds (parquet), one folder per schema
    DIR/metastore_db/        the Spark catalog (embedded Derby): schemas and tables by name
    DIR/compiled/, DIR/dbt_target/   the compiled config and dbt's manifest and logs, as on DuckDB
    DIR/clv_model_cards/, DIR/clv_alerts/   the CLV engine's files (default folders), as on DuckDB

dbt-spark's session method takes `SparkSession.builder.getOrCreate()` in the dbt process, so dbt
runs in `valuemarts.spark.launcher`, a process that creates the session first and registers the
Python UDFs on it. dbt-spark can't run dbt Python models there: the launcher runs them itself
(valuemarts.spark.python_models), in the order valuemarts.spark.plan finds in dbt's manifest.
Needs the `[spark]` extra (pyspark, dbt-spark) and Java 17.
"""
