"""Customer features at a cutoff and the value realised after it.

Features are the BG/NBD summary of the purchases inside the history window (`summary.summarize`,
the numpy twin of the SQL summary), so the engine and the marts count periods, recency and T the
same way; a customer is featured when she bought in the window. The realised value is her spend
in the prediction window, 0 when she did not buy: the label the models are trained and judged on.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from python_udfs.clv import summary
from python_udfs.clv.engine.windows import Window

# Regressor inputs, in this order (the BG/NBD + Gamma-Gamma prediction is appended by `boosting`).
FEATURES = ("frequency", "recency", "T", "inactivity", "monetary_value", "avg_period_spend", "total_spend")


def history_features(periods: pl.DataFrame, window: Window, time_unit: str) -> pl.DataFrame:
    """One row per customer_key with a purchase period in (history_start, cutoff], sorted by key.

    `periods` has customer_key, purchase_date (date) and spend. monetary_value is NaN for one-time
    buyers (the Gamma-Gamma convention); the regressor sees 0 there (`design_matrix`).
    """
    rows = periods.filter(
        (pl.col("purchase_date") > window.history_start) & (pl.col("purchase_date") <= window.cutoff)
    )
    s = summary.summarize(
        rows["customer_key"].to_numpy(),
        rows["purchase_date"].to_numpy(),
        rows["spend"].fill_null(0.0).to_numpy(),
        np.datetime64(window.cutoff, "D"),
        time_unit,
    )
    totals = rows.group_by("customer_key").agg(pl.col("spend").fill_null(0.0).sum().alias("total_spend"))
    return (
        pl.DataFrame({
            "customer_key": s.customer_id.astype(str),
            "frequency": s.frequency,
            "recency": s.recency,
            "T": s.T,
            "inactivity": s.T - s.recency,
            "monetary_value": s.monetary_value,
        }, schema_overrides={"customer_key": pl.String})
        .join(totals, on="customer_key", how="left")
        .with_columns(avg_period_spend=pl.col("total_spend") / (pl.col("frequency") + 1))
        .select("customer_key", *FEATURES)
        .sort("customer_key")
    )


def realised_value(periods: pl.DataFrame, window: Window) -> pl.DataFrame:
    """customer_key, actual_value: spend in (cutoff, pred_end] of customers who bought there."""
    return (
        periods.filter((pl.col("purchase_date") > window.cutoff) & (pl.col("purchase_date") <= window.pred_end))
        .group_by("customer_key")
        .agg(pl.col("spend").fill_null(0.0).sum().alias("actual_value"))
    )


def labelled_features(periods: pl.DataFrame, window: Window, time_unit: str) -> pl.DataFrame:
    """History features with `actual_value` (0 when the customer did not buy in the prediction window)."""
    features = history_features(periods, window, time_unit)
    return (
        features.join(realised_value(periods, window), on="customer_key", how="left")
        .with_columns(pl.col("actual_value").fill_null(0.0))
        .sort("customer_key")
    )
