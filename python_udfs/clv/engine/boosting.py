"""The challenger: a gradient-boosted regressor on the history features and the baseline's own
prediction. Given the baseline as an input it only has to learn corrections (drift in spend,
seasonality the BG/NBD cannot see), so it beats the baseline when there is something to learn and
otherwise loses on holdout and is not used (`training`)."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingRegressor

from python_udfs.clv.engine.features import FEATURES

# Small trees and few rounds: customer bases are noisy, and CI runs on two cores.
PARAMS = {"loss": "squared_error", "learning_rate": 0.05, "max_iter": 150, "max_leaf_nodes": 15,
          "min_samples_leaf": 40, "l2_regularization": 1.0, "early_stopping": False}


def design_matrix(features: pl.DataFrame, baseline_prediction: np.ndarray) -> np.ndarray:
    """FEATURES in order (monetary_value 0 for one-time buyers), then the baseline prediction."""
    columns = [features[c].fill_nan(None).fill_null(0.0).to_numpy().astype(np.float64) for c in FEATURES]
    return np.column_stack([*columns, baseline_prediction])


def fit_booster(X: np.ndarray, y: np.ndarray, seed: int) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(**PARAMS, random_state=seed).fit(X, y)


def predict_booster(booster: HistGradientBoostingRegressor, X: np.ndarray) -> np.ndarray:
    """Predictions clipped at 0: a customer's future spend cannot be negative."""
    return np.clip(booster.predict(X), 0.0, None) if len(X) else np.zeros(0)
