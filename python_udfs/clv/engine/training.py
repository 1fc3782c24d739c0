"""Training at one window: baseline and challenger judged on the same held-out customers.

Customers featured at the cutoff are split at random into `folds` parts (fixed seed, after sorting
by key, so the split does not depend on row order). Each part is held out once: both models are
fitted on the other parts and predict it, so every customer has an out-of-sample prediction from
each model. The challenger becomes champion only if its held-out RMSE beats the baseline's. Using
every customer once as holdout, rather than one 25% slice, matters here: customer value is so
noisy that a slice's R² moves by more than the drift thresholds from one random split to the next.
The champion's held-out RMSE and R² are its baseline metrics, the reference point for drift; all are
on values capped at the training actuals' 99th percentile (`evaluation`). The models kept are then
refitted on all featured customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingRegressor

from python_udfs.clv.engine import evaluation
from python_udfs.clv.engine.baseline import Baseline, NotEnoughData, fit_baseline
from python_udfs.clv.engine.boosting import design_matrix, fit_booster, predict_booster
from python_udfs.clv.engine.features import labelled_features
from python_udfs.clv.engine.windows import Window

BASELINE = "bgnbd_gamma_gamma"
BOOSTED = "gradient_boosting"
# Fewer featured customers per fold than this give metrics too noisy to choose a champion on.
MIN_CUSTOMERS_PER_FOLD = 50


@dataclass(frozen=True)
class TrainedModel:
    """A value model: the baseline alone, or the booster on top of it (which needs its inputs)."""

    model_type: str
    baseline: Baseline
    booster: HistGradientBoostingRegressor | None
    holdout_rmse: float
    holdout_r2: float
    value_cap: float

    def predict(self, features: pl.DataFrame, length: float) -> np.ndarray:
        """Value expected over `length` (model time unit) after the features' cutoff."""
        base = self.baseline.predict(features, length)
        if self.booster is None:
            return base
        return predict_booster(self.booster, design_matrix(features, base))


@dataclass(frozen=True)
class TrainingRun:
    window: Window
    customers: int
    folds: int
    candidates: tuple[TrainedModel, ...]

    @property
    def champion(self) -> TrainedModel:
        """The lowest held-out RMSE; the baseline on ties (the simpler model)."""
        return min(self.candidates, key=lambda m: (m.holdout_rmse, m.model_type != BASELINE))


def fold_ids(n: int, folds: int, seed: int) -> np.ndarray:
    """Fold 0..folds-1 per row, as equal in size as possible, in random order."""
    ids = np.empty(n, dtype=np.int64)
    ids[np.random.default_rng(seed).permutation(n)] = np.arange(n) % folds
    return ids


def _fit_pair(part: pl.DataFrame, length: float, seed: int) -> tuple[Baseline, HistGradientBoostingRegressor]:
    baseline, _, _ = fit_baseline(part)
    X = design_matrix(part, baseline.predict(part, length))
    return baseline, fit_booster(X, part["actual_value"].to_numpy(), seed)


def train(periods: pl.DataFrame, window: Window, time_unit: str, folds: int, seed: int) -> TrainingRun:
    """Fit and judge both models at `window`; NotEnoughData when the window is too thin."""
    data = labelled_features(periods, window, time_unit)
    if data.height < folds * MIN_CUSTOMERS_PER_FOLD:
        raise NotEnoughData(f"{data.height} customers bought in the history window before {window.cutoff}")
    length = window.pred_length(time_unit)
    actual = data["actual_value"].to_numpy()
    cap = evaluation.value_cap(actual)
    held_out = {BASELINE: np.zeros(data.height), BOOSTED: np.zeros(data.height)}
    fold = fold_ids(data.height, folds, seed)
    for f in range(folds):
        rows = pl.Series(fold == f)
        baseline, booster = _fit_pair(data.filter(~rows), length, seed)
        test = data.filter(rows)
        base_test = baseline.predict(test, length)
        held_out[BASELINE][fold == f] = base_test
        held_out[BOOSTED][fold == f] = predict_booster(booster, design_matrix(test, base_test))
    baseline, booster = _fit_pair(data, length, seed)
    candidates = tuple(
        TrainedModel(model_type, baseline, model_booster, evaluation.rmse(actual, held_out[model_type], cap),
                     evaluation.r2(actual, held_out[model_type], cap), cap)
        for model_type, model_booster in ((BASELINE, None), (BOOSTED, booster))
    )
    return TrainingRun(window, data.height, folds, candidates)
