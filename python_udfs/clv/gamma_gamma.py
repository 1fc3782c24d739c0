"""Gamma-Gamma spend model (Fader and Hardie 2013, "The Gamma-Gamma model of monetary value").

Inputs per repeat buyer: x = repeat purchase periods (> 0) and m = mean spend of those x periods
(the first purchase excluded, weakness 5). Spend per transaction ~ Gamma(p, nu), nu ~ Gamma(q, v)
across customers. Parameters are {"p", "q", "v"}; v has the currency's unit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from python_udfs.clv.fit import FitResult, group_rows, maximize_log_likelihood

PARAM_NAMES = ("p", "q", "v")


def _unpack(params: Mapping[str, float]) -> tuple[float, float, float]:
    return params["p"], params["q"], params["v"]


def _repeat_buyers(x: ArrayLike, m: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x, m = np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64)
    if np.any(x <= 0) or np.any(~(m > 0)):
        raise ValueError("Gamma-Gamma needs repeat buyers only: x > 0 and mean spend m > 0")
    return x, m


def log_likelihood(params: Mapping[str, float], x: ArrayLike, m: ArrayLike) -> np.ndarray:
    """Per-customer log density of the mean spend m given x (the note's f(m | p, q, v, x)):

    G(px+q) / (G(px) G(q)) * v^q m^(px-1) x^(px) / (v + m x)^(px+q)
    (constants included, so the sum is comparable with other implementations).
    """
    p, q, v = _unpack(params)
    x, m = _repeat_buyers(x, m)
    px = p * x
    return (
        gammaln(px + q) - gammaln(px) - gammaln(q)
        + q * np.log(v) + (px - 1.0) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + m * x)
    )


def _objective(x: np.ndarray, m: np.ndarray, w: np.ndarray):
    """Mean negative LL and its analytic gradient in log-parameters."""
    total = w.sum()
    log_xm = np.log(x * m)

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(theta)
        ll = log_likelihood({"p": p, "q": q, "v": v}, x, m)
        log_vxm = np.log(v + x * m)
        psi = digamma(p * x + q)
        d_p = x * (psi - digamma(p * x) + log_xm - log_vxm)
        d_q = psi - digamma(q) + np.log(v) - log_vxm
        d_v = q / v - (p * x + q) / (v + x * m)
        grad = np.array([w @ d_p * p, w @ d_q * q, w @ d_v * v])
        return -(w @ ll) / total, -grad / total

    return f


def fit(
    x: ArrayLike,
    m: ArrayLike,
    weights: ArrayLike | None = None,
    start: Mapping[str, float] | None = None,
) -> FitResult:
    """MLE of (p, q, v) over repeat buyers (x > 0); identical (x, m) rows are evaluated once."""
    x, m = _repeat_buyers(x, m)
    (gx, gm), w, _ = group_rows([x, m], None if weights is None else np.asarray(weights))
    s = None if start is None else [start[n] for n in PARAM_NAMES]
    return maximize_log_likelihood("gamma_gamma", PARAM_NAMES, _objective(gx, gm, w), w.sum(), s)


def conditional_expected_spend(params: Mapping[str, float], x: ArrayLike, m: ArrayLike) -> np.ndarray:
    """E[M | p, q, v, m, x] = p (v + x m) / (p x + q - 1): expected spend per future transaction.

    A credibility-weighted mix of the population mean p v / (q - 1) and the customer's own mean m,
    the weight on m growing with x. One-time buyers (x = 0, m NaN) get the population mean.
    Needs q > 1 (otherwise the population mean spend is infinite).
    """
    p, q, v = _unpack(params)
    x = np.asarray(x, dtype=np.float64)
    m = np.where(x > 0, np.asarray(m, dtype=np.float64), 0.0)
    return p * (v + x * m) / (p * x + q - 1.0)
