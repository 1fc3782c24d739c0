"""Subscription value over a horizon, month by month, for customers with running contracts.

A customer's active contracts pay `monthly_cost` every month until the current term ends
(`remaining` months after the observation end: contracted, certain); after that each further term
of `term` months is paid only if she renews. Renewal k (k = 1, 2, ...) is reached with probability
`stay(k, month)`:

* fitted: the shifted-beta-geometric model (`sbg_stay`), S(n-1+k) / S(n-1) for a customer who has
  paid n terms, i.e. the sBG's retention given how long she has already stayed;
* fallback when the sBG cannot be fitted (e.g. nobody has churned yet, so the churn rate is not
  identified): the configured lifespan (`lifespan_stay`), i.e. she stays until her age reaches
  lifespan years, then leaves.

Payments are made at the end of each month and discounted at the annual rate, (1 + d)^(-j/12).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from python_udfs.clv import sbg

MONTH_DAYS = 365.25 / 12.0
# stay(k, month): probability of paying renewal term k (>= 1) in month `month` (1-based), per customer.
Stay = Callable[[np.ndarray, np.ndarray], np.ndarray]


def sbg_stay(params: Mapping[str, float], terms_paid: np.ndarray) -> Stay:
    """S(n - 1 + k) / S(n - 1) for customers who have paid n = `terms_paid` terms."""
    done = np.asarray(terms_paid, dtype=np.float64)[:, None] - 1.0

    def stay(k: np.ndarray, month: np.ndarray) -> np.ndarray:
        return sbg.survival(params, done + k) / sbg.survival(params, done)

    return stay


def lifespan_stay(age_months: np.ndarray, lifespan_months: float) -> Stay:
    """1 while the customer's age (months since her first purchase) plus `month` is within the lifespan."""
    age = np.asarray(age_months, dtype=np.float64)[:, None]

    def stay(k: np.ndarray, month: np.ndarray) -> np.ndarray:
        return np.broadcast_to((age + month <= lifespan_months).astype(np.float64), k.shape)

    return stay


def recurring_value(monthly_cost: np.ndarray, remaining: np.ndarray, term: np.ndarray, stay: Stay,
                    horizon_months: int, annual_discount: float) -> tuple[np.ndarray, np.ndarray]:
    """(discounted expected payments, expected renewals started) within `horizon_months`.

    Month j (1..horizon) is paid for certain when j <= remaining, else it falls in renewal
    k = ceil((j - remaining) / term) and is paid with stay(k, j). Renewal k starts in month
    floor(remaining + (k - 1) term) + 1; renewals starting inside the horizon are counted with
    the probability of paying their first month.
    """
    cost, remaining, term = (np.asarray(v, dtype=np.float64) for v in (monthly_cost, remaining, term))
    if len(cost) == 0:
        return np.zeros(0), np.zeros(0)
    month = np.arange(1, horizon_months + 1, dtype=np.float64)[None, :]
    in_term = month <= remaining[:, None]
    k = np.maximum(np.ceil((month - remaining[:, None]) / term[:, None]), 1.0)
    paid = np.where(in_term, 1.0, stay(k, month))
    value = cost * (paid @ (1.0 + annual_discount) ** (-month[0] / 12.0))

    renewal = np.arange(1, horizon_months + 1, dtype=np.float64)[None, :]  # at most one per month
    first_month = np.floor(remaining[:, None] + (renewal - 1.0) * term[:, None]) + 1.0
    inside = first_month <= horizon_months
    renewals = np.where(inside, stay(renewal, np.where(inside, first_month, 1.0)), 0.0).sum(axis=1)
    return value, renewals
