"""Drift: a matured scoring run's accuracy against its model's baseline, with a Markdown alert.

When the data covers a scoring run's prediction window, its predictions meet their actuals and
RMSE and R² are compared with the baseline metrics on the model's card (its held-out accuracy at
training time), on the customers the model could score (those with a purchase in the history
window, as at training) and with the card's value cap (`evaluation`).

Drift is an RMSE increase above `drift_rmse_increase` (relative: 0.20 = 20% worse) or an R²
decrease above `drift_r2_decrease` in R² points (0.15: from 0.35 to below 0.20). R² is already a
share of variance, and CLV models explain little of it (0.1 to 0.3 is typical), so a relative R²
change would be a ratio of two small noisy numbers: from 0.20 to 0.16 would be "20% down" while
being sampling noise for a few thousand customers. Nothing is retrained automatically: the alert
asks a person to look, as the engine this follows does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from python_udfs.clv.engine import evaluation
from python_udfs.clv.engine.settings import ClvSettings, output_dir

SCHEMA: dict[str, pl.DataType] = {
    "metric_name": pl.String, "cutoff": pl.Date, "pred_end": pl.Date, "model_id": pl.String,
    "customers": pl.Int64, "value_cap": pl.Float64, "rmse": pl.Float64, "r2": pl.Float64, "baseline_rmse": pl.Float64,
    "baseline_r2": pl.Float64, "rmse_increase": pl.Float64, "r2_decrease": pl.Float64,
    "rmse_threshold": pl.Float64, "r2_threshold": pl.Float64, "is_drift": pl.Boolean, "alert_path": pl.String,
}


def changes(rmse: float, r2: float, baseline_rmse: float,
            baseline_r2: float | None) -> tuple[float | None, float | None]:
    """(rmse / baseline RMSE - 1, baseline R² - R²); None where undefined (a zero or missing baseline)."""
    rmse_increase = rmse / baseline_rmse - 1.0 if baseline_rmse else None
    r2_decrease = None if baseline_r2 is None or r2 != r2 else baseline_r2 - r2
    return rmse_increase, r2_decrease


def evaluate(actuals: pl.DataFrame, cards: pl.DataFrame, settings: ClvSettings, alert_dir: Path) -> pl.DataFrame:
    """One row per matured (cutoff, model) of the metric; a drifting row names its alert's path in
    `alert_dir` (the file is written after the build, by valuemarts.clv_files).

    `actuals`: metric_name, cutoff, pred_end, model_id, scored, predicted_value, actual_value per customer.
    """
    rows = []
    own = actuals.filter((pl.col("metric_name") == settings.metric_name) & pl.col("scored"))
    for (cutoff, pred_end, model_id), group in own.group_by("cutoff", "pred_end", "model_id", maintain_order=True):
        card = cards.filter(pl.col("model_id") == model_id)
        if card.height == 0:
            continue
        actual, predicted = group["actual_value"].to_numpy(), group["predicted_value"].to_numpy()
        cap = card["value_cap"][0]
        rmse, r2 = evaluation.rmse(actual, predicted, cap), evaluation.r2(actual, predicted, cap)
        baseline_rmse, baseline_r2 = card["baseline_rmse"][0], card["baseline_r2"][0]
        rmse_increase, r2_decrease = changes(rmse, r2, baseline_rmse, baseline_r2)
        row = {
            "metric_name": settings.metric_name, "cutoff": cutoff, "pred_end": pred_end, "model_id": model_id,
            "customers": group.height, "value_cap": cap, "rmse": rmse, "r2": None if np.isnan(r2) else r2,
            "baseline_rmse": baseline_rmse, "baseline_r2": baseline_r2, "rmse_increase": rmse_increase,
            "r2_decrease": r2_decrease, "rmse_threshold": settings.drift_rmse_increase,
            "r2_threshold": settings.drift_r2_decrease,
        }
        row["is_drift"] = bool((rmse_increase or 0) > settings.drift_rmse_increase
                               or (r2_decrease or 0) > settings.drift_r2_decrease)
        row["alert_path"] = str(alert_dir / alert_name(row)) if row["is_drift"] else None
        rows.append(row)
    return pl.DataFrame(rows, schema=SCHEMA)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}"


def _num(x: float | None, digits: int) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def alert_markdown(row: dict) -> str:
    """The alert a person reads: what drifted, by how much, and what to check."""
    return "\n".join([
        f"# CLV model drift: {row['metric_name']}, scoring cutoff {row['cutoff']}",
        "",
        f"Predictions made at {row['cutoff']} by model `{row['model_id']}` for the window up to "
        f"{row['pred_end']} were compared with what {row['customers']} customers actually spent",
        f"(values capped at {row['value_cap']:.2f}, as when the model was trained).",
        "",
        "| metric | baseline | now | change | threshold |",
        "|---|---|---|---|---|",
        f"| RMSE | {_num(row['baseline_rmse'], 2)} | {_num(row['rmse'], 2)} | {_pct(row['rmse_increase'])} "
        f"| +{row['rmse_threshold']:.0%} |",
        f"| R² | {_num(row['baseline_r2'], 3)} | {_num(row['r2'], 3)} | "
        f"{_num(None if row['r2_decrease'] is None else -row['r2_decrease'], 3)} | -{row['r2_threshold']:.2f} |",
        "",
        "Value predictions are less accurate than when the model was trained, so tiers and clusters",
        "built on them may target the wrong customers.",
        "",
        "Next steps: check the holdings loads for gaps, duplicates or one-off campaigns in the window;",
        "if the change is real, retrain by setting a later `train_cutoff` for this metric (the window",
        "grid in mart_clv__window_grid shows which windows predict best). Nothing was retrained",
        "automatically.",
        "",
    ])


def alert_name(row: dict) -> str:
    return f"clv_drift_{row['metric_name']}_{row['cutoff']:%Y%m%d}.md"


def write_alert(row: dict, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / alert_name(row)
    path.write_text(alert_markdown(row), encoding="utf-8")
    return path


def drift_table(settings: list[ClvSettings], actuals: pl.DataFrame, cards: pl.DataFrame,
                warehouse: str | None) -> pl.DataFrame:
    """int_clv__drift: every matured scoring run of every metric, alert paths in each metric's alert_dir."""
    frames = [pl.DataFrame(schema=SCHEMA)]
    for s in settings:
        frames.append(evaluate(actuals, cards, s, output_dir(warehouse, s.alert_dir)))
    return pl.concat(frames)
