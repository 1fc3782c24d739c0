"""Shifted-beta-geometric (sBG) retention model for contractual / recurring products.

Fader and Hardie (2007), "How to project customer retention": at the end of each contract period a
customer renews with her own probability 1 - theta, theta ~ Beta(alpha, beta) across customers.
T = the period at whose end she leaves (T = 1: never renews). Values over the future use Fader
and Hardie (2010), "Customer-base valuation in a contractual setting: the perils of ignoring
heterogeneity" (DERL). Parameters are {"alpha", "beta"}.

Data conventions: `periods` = contract periods paid so far (>= 1); `churned` = she left at the end
of her last paid period (T = periods), else she is still a customer and right-censored: she has
survived periods - 1 renewal decisions (T > periods - 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, hyp2f1

from python_udfs.clv.fit import FitResult, group_rows, maximize_log_likelihood

PARAM_NAMES = ("alpha", "beta")


def _unpack(params: Mapping[str, float]) -> tuple[float, float]:
    return params["alpha"], params["beta"]


def survival(params: Mapping[str, float], t: ArrayLike) -> np.ndarray:
    """S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta): share still customers after t renewals."""
    alpha, beta = _unpack(params)
    return np.exp(betaln(alpha, beta + np.asarray(t, dtype=np.float64)) - betaln(alpha, beta))


def churn_probability(params: Mapping[str, float], t: ArrayLike) -> np.ndarray:
    """P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta), t = 1, 2, ..."""
    alpha, beta = _unpack(params)
    return np.exp(betaln(alpha + 1.0, beta + np.asarray(t, dtype=np.float64) - 1.0) - betaln(alpha, beta))


def retention_rate(params: Mapping[str, float], t: ArrayLike) -> np.ndarray:
    """r_t = S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1): rises with t as the
    churn-prone customers leave first (the heterogeneity the sBG exists to capture)."""
    alpha, beta = _unpack(params)
    t = np.asarray(t, dtype=np.float64)
    return (beta + t - 1.0) / (alpha + beta + t - 1.0)


def _log_terms(alpha: float, beta: float, periods: np.ndarray, churned: np.ndarray):
    """log P(T = n) (churned, c = 1) or log S(n - 1) (censored, c = 0), both
    log B(alpha + c, beta + n - 1) - log B(alpha, beta)."""
    c = churned.astype(np.float64)
    k = periods - 1.0
    return c, k, betaln(alpha + c, beta + k) - betaln(alpha, beta)


def log_likelihood(params: Mapping[str, float], periods: ArrayLike, churned: ArrayLike) -> np.ndarray:
    """Per-customer log-likelihood: churned -> log P(T = periods); active -> log S(periods - 1)."""
    periods, churned = _validate(periods, churned)
    return _log_terms(*_unpack(params), periods, churned)[2]


def _validate(periods: ArrayLike, churned: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    periods = np.asarray(periods, dtype=np.float64)
    churned = np.asarray(churned, dtype=bool)
    if np.any(periods < 1) or np.any(periods != np.floor(periods)):
        raise ValueError("periods must be whole numbers >= 1")
    return periods, churned


def _objective(periods: np.ndarray, churned: np.ndarray, w: np.ndarray):
    """Mean negative LL and its gradient in log-parameters (d betaln(x, y)/dx = psi(x) - psi(x + y))."""
    total = w.sum()

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        alpha, beta = np.exp(theta)
        c, k, ll = _log_terms(alpha, beta, periods, churned)
        psi_all = digamma(alpha + beta + c + k)
        psi0 = digamma(alpha + beta)
        d_alpha = digamma(alpha + c) - psi_all - digamma(alpha) + psi0
        d_beta = digamma(beta + k) - psi_all - digamma(beta) + psi0
        grad = np.array([w @ d_alpha * alpha, w @ d_beta * beta])
        return -(w @ ll) / total, -grad / total

    return f


def fit(periods: ArrayLike, churned: ArrayLike, weights: ArrayLike | None = None) -> FitResult:
    """MLE of (alpha, beta) from per-customer (periods paid, churned?) rows; active customers are
    right-censored, so a cohort still mid-contract is used without bias."""
    periods, churned = _validate(periods, churned)
    (gp, gc), w, _ = group_rows([periods, churned.astype(np.float64)],
                                None if weights is None else np.asarray(weights))
    return maximize_log_likelihood("sbg", PARAM_NAMES, _objective(gp, gc.astype(bool), w), w.sum())


def fit_survival_counts(alive: Sequence[float]) -> FitResult:
    """MLE from a cohort's customer counts alive[t] after t renewals (alive[0] = cohort size).

    The FH 2007 likelihood: sum_t (alive[t-1] - alive[t]) log P(T = t) + alive[n] log S(n), i.e.
    churners of each period plus the survivors censored at n renewals.
    """
    alive = np.asarray(alive, dtype=np.float64)
    if alive.ndim != 1 or len(alive) < 2 or np.any(np.diff(alive) > 0):
        raise ValueError("alive must be a non-increasing sequence of counts, starting with the cohort size")
    n = len(alive) - 1
    periods = np.concatenate([np.arange(1.0, n + 1.0), [n + 1.0]])
    churned = np.concatenate([np.ones(n, dtype=bool), [False]])
    return fit(periods, churned, weights=np.concatenate([-np.diff(alive), [alive[-1]]]))


def derl(params: Mapping[str, float], discount_rate: float, renewals: ArrayLike = 0) -> np.ndarray:
    """Discounted expected residual lifetime, FH 2010:

    DERL(d | alpha, beta, n-1 renewals) = (beta+n-1)/(alpha+beta+n-1) 2F1(1, beta+n; alpha+beta+n; 1/(1+d))
    = sum_{k>=1} S(n-1+k)/S(n-1) / (1+d)^(k-1): the expected number of future payments of a customer
    who has made `renewals` = n-1 renewals (paid n periods), valued just before her next renewal
    decision, so the next payment (if she renews) is undiscounted. Infinite when d = 0 and
    alpha <= 1 (the retention tail is then too heavy for a finite mean lifetime).
    """
    alpha, beta = _unpack(params)
    b = beta + np.asarray(renewals, dtype=np.float64)  # beta + n - 1
    return b / (alpha + b) * hyp2f1(1.0, b + 1.0, alpha + b + 1.0, 1.0 / (1.0 + discount_rate))


def clv(params: Mapping[str, float], recurring_cost: ArrayLike, discount_rate: float,
        renewals: ArrayLike = 0) -> np.ndarray:
    """Contractual residual CLV = recurring cost per period x DERL (same timing convention as `derl`)."""
    return np.asarray(recurring_cost, dtype=np.float64) * derl(params, discount_rate, renewals)


def fixed_lifespan_clv(recurring_cost: ArrayLike, lifespan_periods: int, discount_rate: float) -> np.ndarray:
    """Fallback without a fitted model: `lifespan_periods` more payments for certain, the first
    undiscounted (the `derl` timing): cost x sum_{k=0}^{L-1} (1+d)^-k."""
    factors = (1.0 + discount_rate) ** -np.arange(lifespan_periods, dtype=np.float64)
    return np.asarray(recurring_cost, dtype=np.float64) * factors.sum()
