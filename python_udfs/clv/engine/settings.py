"""A CLV metric's settings for the Python models, read from `int_clv__metric_config`.

The SQL models read the compiled config through `vm_config()`; dbt Python models cannot, so the
config is materialised as JSON and parsed here, once, into typed fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import polars as pl


@dataclass(frozen=True)
class ClvSettings:
    """The keys of `valuemarts.config.compiler._clv_keys` that the Python side uses."""

    metric_name: str
    model: str
    time_unit: str
    lifespan_years: float
    horizon_months: int
    discount_rate: float
    history_months: int
    pred_months: int
    train_cutoff: date | None
    holdout_folds: int
    grid_history_months: tuple[int, ...]
    grid_pred_months: tuple[int, ...]
    tier_shares: tuple[float, ...]
    tier_labels: tuple[str, ...]
    n_clusters: int
    seed: int
    drift_rmse_increase: float
    drift_r2_decrease: float
    alert_dir: str
    model_card_dir: str

    @property
    def contractual(self) -> bool:
        return self.model == "contractual"

    @classmethod
    def from_config(cls, config: dict) -> ClvSettings:
        cutoff = config.get("train_cutoff")
        return cls(
            metric_name=config["name"],
            model=config["model"],
            time_unit=config["time_unit"],
            lifespan_years=float(config["lifespan"]),
            horizon_months=int(config["horizon_months"]),
            discount_rate=float(config["discount_rate"]),
            history_months=int(config["history_months"]),
            pred_months=int(config["pred_months"]),
            train_cutoff=date.fromisoformat(cutoff) if cutoff else None,
            holdout_folds=int(config["holdout_folds"]),
            grid_history_months=tuple(config["grid_history_months"]),
            grid_pred_months=tuple(config["grid_pred_months"]),
            tier_shares=tuple(float(s) for s in config["tier_shares"]),
            tier_labels=tuple(config["tier_labels"]),
            n_clusters=int(config["n_clusters"]),
            seed=int(config["seed"]),
            drift_rmse_increase=float(config["drift_rmse_increase"]),
            drift_r2_decrease=float(config["drift_r2_decrease"]),
            alert_dir=config["alert_dir"],
            model_card_dir=config["model_card_dir"],
        )


def read_settings(config_frame: pl.DataFrame) -> list[ClvSettings]:
    """One entry per row of int_clv__metric_config (metric_name, config_json)."""
    return [ClvSettings.from_config(json.loads(text)) for text in config_frame["config_json"].to_list()]


def for_metric(frame: pl.DataFrame, metric_name: str) -> pl.DataFrame:
    """The rows of one metric in a relation keyed by metric_name."""
    return frame.filter(pl.col("metric_name") == metric_name)


def warehouse_file(session: Any) -> str | None:
    """A file of the warehouse a dbt Python model writes to (its `session`); outputs go beside it.

    On DuckDB the database file. On Spark, where valuemarts runs the model with the Spark session
    (valuemarts.spark.python_models), the folder of its tables (`spark.sql.warehouse.dir`, a
    `file:` URI), which sits in the Spark warehouse folder beside its other files.
    """
    if type(session).__module__.startswith("pyspark."):
        return urlparse(session.conf.get("spark.sql.warehouse.dir")).path
    return session.sql("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]


def output_dir(warehouse: str | None, configured: str) -> Path:
    """A configured output folder (alerts, model cards): relative paths sit beside the warehouse
    (which dbt names relative to its working folder, the warehouse's own)."""
    path = Path(configured)
    if path.is_absolute():
        return path
    return (Path(warehouse).absolute().parent if warehouse else Path.cwd()) / path
