"""Config A/B: the same export files built under two configs, metric by metric side by side.

Each config builds into its own temporary warehouse (nothing is written beside the user's
warehouse); every metric the configs share is then reported without grouping (experiments per
experiment and arm, CLV as customer means), and each numeric column is lined up: A, B, B - A.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

_SCHEMA = {"metric": pl.String, "family_a": pl.String, "family_b": pl.String, "row": pl.String, "column": pl.String,
           "a": pl.Float64, "b": pl.Float64, "difference": pl.Float64}


def compare_configs(config_a: Path, config_b: Path, ih: list[str] | None, holdings: list[str] | None,
                    log: Callable[[str], None]) -> pl.DataFrame:
    """Build both configs on the same files and line up their metrics.

    Returns
    -------
    polars.DataFrame
        One row per metric, report row (its key values, e.g. ``ExperimentName=X, ExperimentGroup=Y``;
        empty for an ungrouped metric) and numeric column: ``a``, ``b`` and ``difference`` (b - a);
        a metric or row only one config has shows the other side empty.
    """
    from valuemarts.api import Warehouse

    with tempfile.TemporaryDirectory(prefix="valuemarts-compare-configs-") as tmp:
        sides = {}
        for side, config in (("a", config_a), ("b", config_b)):
            warehouse = Warehouse(Path(tmp) / side / "warehouse.duckdb", read_only=False)
            log(f"building {side.upper()}: {config}")
            warehouse.build(config, ih=ih, holdings=holdings, log=log)
            sides[side] = _metric_values(Warehouse.open(warehouse.path))
    a, b = sides["a"], sides["b"]
    joined = a.join(b, on=["metric", "row", "column"], how="full", coalesce=True, suffix="_b")
    return (joined.rename({"family": "family_a", "value": "a", "value_b": "b"})
            .with_columns((pl.col("b") - pl.col("a")).alias("difference"))
            .select(list(_SCHEMA)).cast(_SCHEMA).sort("metric", "row", "column"))


def _metric_values(warehouse) -> pl.DataFrame:
    """Every metric of a built warehouse reported without grouping, as long rows
    (metric, family, row, column, value) of its numeric columns."""
    from valuemarts.reports.query import load_metrics

    frames = []
    for name, metric in load_metrics(warehouse.path).items():
        report = warehouse.report(name)
        numeric = [c for c, t in report.schema.items() if t.is_numeric() or t == pl.Boolean]
        keys = [c for c in report.columns if c not in numeric]
        if metric.get("family") == "clv":
            report, keys = report.select(pl.col(numeric).cast(pl.Float64).mean()), []
        key_text = (pl.concat_str([pl.lit(f"{k}=") + pl.col(k).cast(pl.String).fill_null("") for k in keys],
                                  separator=", ") if keys else pl.lit(""))
        frames.append(report.select(key_text.alias("row"), *[pl.col(c).cast(pl.Float64) for c in numeric])
                      .unpivot(index="row", variable_name="column", value_name="value")
                      .with_columns(pl.lit(name).alias("metric"), pl.lit(metric.get("family")).alias("family")))
    return pl.concat(frames) if frames else pl.DataFrame(schema={"row": pl.String, "column": pl.String,
                                                                 "value": pl.Float64, "metric": pl.String,
                                                                 "family": pl.String})
