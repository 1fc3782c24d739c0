"""The probabilistic baseline: BG/NBD for how many purchases, Gamma-Gamma for how much each.

Predicted value over a window of length t = E[Y(t) | x, t_x, T] x E[M | x, m]: both models fitted
by maximum likelihood on the history summary, one-time buyers included in BG/NBD (weakness 5),
repeat buyers with a positive mean spend in Gamma-Gamma (the model's support).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from python_udfs.clv import bgnbd, gamma_gamma, value
from python_udfs.clv.fit import FitResult


class NotEnoughData(ValueError):
    """The data cannot identify a model (no customers, or no repeat buyer with spend)."""


@dataclass(frozen=True)
class Baseline:
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]

    def expected_purchases(self, features: pl.DataFrame, length: float) -> np.ndarray:
        """E[Y(length) | x, t_x, T] per row of `features` (length in the model's time unit)."""
        x, t_x, T = (features[c].to_numpy().astype(np.float64) for c in ("frequency", "recency", "T"))
        return value.discounted_expected_purchases(self.bgnbd, x, t_x, T, length, 0.0, period=length)

    def expected_spend(self, features: pl.DataFrame) -> np.ndarray:
        """E[M | x, m]: the customer's mean repeat spend shrunk toward the population mean."""
        return gamma_gamma.conditional_expected_spend(
            self.gamma_gamma, features["frequency"].to_numpy(), features["monetary_value"].to_numpy())

    def predict(self, features: pl.DataFrame, length: float) -> np.ndarray:
        if features.height == 0:
            return np.zeros(0)
        return self.expected_purchases(features, length) * self.expected_spend(features)


def fit_baseline(features: pl.DataFrame) -> tuple[Baseline, FitResult, FitResult]:
    """Fit both models on a history summary; raises NotEnoughData when either is unidentified."""
    repeat = (features["frequency"] > 0) & (features["monetary_value"].fill_nan(None).fill_null(0.0) > 0)
    if features.height == 0 or not repeat.any():
        raise NotEnoughData("no repeat buyer with a positive spend: Gamma-Gamma cannot be fitted")
    purchases = bgnbd.fit(features["frequency"].to_numpy(), features["recency"].to_numpy(), features["T"].to_numpy())
    buyers = features.filter(repeat)
    spend = gamma_gamma.fit(buyers["frequency"].to_numpy(), buyers["monetary_value"].to_numpy())
    if not (purchases.converged and spend.converged):
        raise NotEnoughData(f"fit did not converge: BG/NBD {purchases.message}; Gamma-Gamma {spend.message}")
    model = Baseline(purchases.params, spend.params)
    # When dropout hardly varies between customers the MLE runs off to huge a and b (a Beta that is
    # a point mass); the 2F1 in E[Y(t)] then overflows. Such a window cannot be used.
    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.isfinite(model.expected_purchases(features, 1.0)).all()
    if not finite:
        raise NotEnoughData(f"BG/NBD degenerate (a = {purchases.params['a']:.3g}, b = {purchases.params['b']:.3g}): "
                            "expected purchases overflow")
    return model, purchases, spend
