"""Accuracy of value predictions: RMSE and R² on values capped at a high quantile.

Customer value is heavy-tailed: with Gamma-Gamma spend (CDNOW's q = 3.74 < 4) the fourth moment
is infinite, so the RMSE of a sample never settles and one big spender moves it by tens of percent.
Capping actual and predicted values at the 99th percentile of the training actuals (fixed at
training and stored on the model card, so later comparisons use the same cap) keeps the metrics
stable enough to choose champions and detect drift, while predictions far below or above the
cap are still errors.
"""

from __future__ import annotations

import numpy as np

CAP_QUANTILE = 0.99


def value_cap(actual: np.ndarray) -> float:
    """The cap for a model: the CAP_QUANTILE quantile of its training actuals."""
    return float(np.quantile(np.asarray(actual, dtype=np.float64), CAP_QUANTILE)) if len(actual) else 0.0


def rmse(actual: np.ndarray, predicted: np.ndarray, cap: float) -> float:
    a, p = _capped(actual, predicted, cap)
    return float(np.sqrt(np.mean((a - p) ** 2))) if len(a) else float("nan")


def r2(actual: np.ndarray, predicted: np.ndarray, cap: float) -> float:
    """1 - SSE / SST of capped values; NaN when the capped actuals are constant."""
    a, p = _capped(actual, predicted, cap)
    total = float(np.sum((a - a.mean()) ** 2)) if len(a) else 0.0
    if total == 0.0:
        return float("nan")
    return 1.0 - float(np.sum((a - p) ** 2)) / total


def _capped(actual: np.ndarray, predicted: np.ndarray, cap: float) -> tuple[np.ndarray, np.ndarray]:
    return (np.minimum(np.asarray(actual, dtype=np.float64), cap),
            np.minimum(np.asarray(predicted, dtype=np.float64), cap))
