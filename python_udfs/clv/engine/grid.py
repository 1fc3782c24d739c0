"""Window grid search: how well value can be predicted for each (history, prediction) window pair.

Each pair is trained as the champion would be, at the latest cutoff whose prediction window has
matured by `data_end`, and reported with both candidates' holdout RMSE and R². It informs the choice
of history_months and pred_months in the config; it does not change them (a build must not move
its own windows).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from python_udfs.clv.engine.baseline import NotEnoughData
from python_udfs.clv.engine.training import TrainingRun, train
from python_udfs.clv.engine.windows import Window, add_months


@dataclass(frozen=True)
class GridPoint:
    window: Window
    run: TrainingRun | None
    reason: str | None  # why the pair could not be trained

    def rows(self) -> list[dict]:
        """One row per candidate model (or one row with the reason), for the window grid mart."""
        base = {"history_months": self.window.history_months, "pred_months": self.window.pred_months,
                "cutoff": self.window.cutoff.isoformat()}
        if self.run is None:
            return [{**base, "model_type": None, "rmse": None, "r2": None, "customers": 0,
                     "is_best": False, "reason": self.reason}]
        best = self.run.champion.model_type
        return [{**base, "model_type": m.model_type, "rmse": m.holdout_rmse, "r2": _finite(m.holdout_r2),
                 "customers": self.run.customers,
                 "is_best": m.model_type == best, "reason": None} for m in self.run.candidates]


def _finite(x: float) -> float | None:
    return None if x != x else x


def grid_search(periods: pl.DataFrame, data_end, history_months: tuple[int, ...], pred_months: tuple[int, ...],
                time_unit: str, folds: int, seed: int) -> list[GridPoint]:
    """Train every (history, pred) pair at cutoff = data_end - pred months; data after data_end unused."""
    periods = periods.filter(pl.col("purchase_date") <= data_end)
    points = []
    for pred in pred_months:
        for history in history_months:
            window = Window(add_months(data_end, -pred), history, pred)
            try:
                points.append(GridPoint(window, train(periods, window, time_unit, folds, seed), None))
            except NotEnoughData as exc:
                points.append(GridPoint(window, None, str(exc)))
    return points
