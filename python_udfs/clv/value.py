"""Non-contractual CLV: BG/NBD expected purchases x expected spend, discounted per period.

Time units are explicit everywhere. BG/NBD parameters are fitted on recency/T in one unit (the
summary's `time_unit`, days or weeks); the horizon and the discounting period must be in that same
unit, and `to_time_unit` converts years or months into it. The reference passed 365 * years to
lifetimes' `customer_lifetime_value`, whose `time` is in *months*, so its "1 year" CLV was a
~30-year one (docs/metrics.md#reference-weaknesses, weakness 5); here nothing is in an implied unit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from python_udfs.clv import bgnbd
from python_udfs.clv.fit import group_rows
from python_udfs.clv.summary import days_per_unit

# Calendar lengths in days; a year is the Julian 365.25 days so that 52.18 weeks = 12 months = 1 year.
CALENDAR_DAYS: dict[str, float] = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0, "years": 365.25}


def to_time_unit(amount: float, unit: str, time_unit: str) -> float:
    """Convert `amount` `unit`s (days, weeks, months or years) into the model's `time_unit`.

    E.g. to_time_unit(1, "years", "weeks") = 52.18; to_time_unit(6, "months", "days") = 182.6.
    """
    if unit not in CALENDAR_DAYS:
        raise ValueError(f"unit must be one of {sorted(CALENDAR_DAYS)}, got {unit!r}")
    return amount * CALENDAR_DAYS[unit] / days_per_unit(time_unit)


def rate_per_period(annual_rate: float, period: float, time_unit: str) -> float:
    """Discount rate per `period` (in `time_unit`) equivalent to `annual_rate`, compounding:
    (1 + annual)^(period in years) - 1."""
    return (1.0 + annual_rate) ** (period / to_time_unit(1.0, "years", time_unit)) - 1.0


def _period_count(horizon: float, period: float) -> int:
    k = horizon / period
    if period <= 0 or k < 1 or abs(k - round(k)) > 1e-9 * max(1.0, k):
        raise ValueError(f"horizon ({horizon}) must be a positive whole number of periods ({period})")
    return int(round(k))


def discounted_expected_purchases(
    params: Mapping[str, float],
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    horizon: float,
    discount_rate: float = 0.0,
    period: float = 1.0,
) -> np.ndarray:
    """sum_{k=1..K} (E[Y(k P) | x, t_x, T] - E[Y((k-1) P) | x, t_x, T]) / (1 + d)^k, K = horizon / P.

    Purchases expected in period k (BG/NBD eq. 10 differenced) are discounted as if made at the end
    of period k. With d = 0 this telescopes to E[Y(horizon) | x, t_x, T]. `horizon` and `period`
    are in the unit of t_x and T; `discount_rate` is per `period`.
    """
    cols = [np.asarray(v, dtype=np.float64) for v in (x, t_x, T)]
    (gx, gt, gT), _, inverse = group_rows(cols)  # each distinct history is evaluated once
    total = np.zeros(len(gx))
    previous = np.zeros(len(gx))
    for k in range(1, _period_count(horizon, period) + 1):
        current = bgnbd.conditional_expected_purchases(params, k * period, gx, gt, gT)
        total += (current - previous) / (1.0 + discount_rate) ** k
        previous = current
    return total[inverse]


def clv(
    params: Mapping[str, float],
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    spend: ArrayLike,
    horizon: float,
    discount_rate: float = 0.0,
    period: float = 1.0,
) -> np.ndarray:
    """Residual CLV over `horizon`: discounted expected purchases x expected spend per purchase.

    `spend` is typically `gamma_gamma.conditional_expected_spend` (which assumes spend independent
    of purchase rate, as the Gamma-Gamma model does); any per-customer margin works.
    """
    purchases = discounted_expected_purchases(params, x, t_x, T, horizon, discount_rate, period)
    return purchases * np.asarray(spend, dtype=np.float64)
