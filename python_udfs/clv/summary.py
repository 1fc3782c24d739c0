"""Per-customer (frequency, recency, T, monetary_value) from transactions: the numpy reference.

The production summary is SQL; this module pins down the rules it must match (docs/metrics.md#customer-summary,
CLV) and feeds the tests and benchmarks:

* purchases on the same day are one purchase period (the models count purchase occasions, and
  several order lines on one day are one occasion);
* frequency = periods - 1 (the first purchase starts the customer's clock and is not a repeat);
* recency = last - first period: the customer's *age at her last purchase* (t_x in the papers), not
  "time since last purchase" as the reference computed it (docs/metrics.md#reference-weaknesses, weakness 5);
* T = observation end - first period: the customer's age at the end of the observation window;
* monetary_value = mean spend of the repeat periods (Gamma-Gamma models repeat spend only); NaN
  for one-time buyers;
* the observation end is an explicit argument, never the wall clock, and later purchases are
  ignored, so the same inputs always give the same summary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

# Days in one unit of model time. Weeks are days / 7 as floats, as Fader, Hardie and Lee (2005) use.
DAYS_PER_UNIT: dict[str, float] = {"days": 1.0, "weeks": 7.0}


@dataclass(frozen=True)
class RFMSummary:
    """One entry per customer with at least one purchase on or before the observation end."""

    customer_id: np.ndarray
    frequency: np.ndarray  # int64: repeat purchase periods
    recency: np.ndarray  # float64: age at last purchase, in time_unit
    T: np.ndarray  # float64: age at observation end, in time_unit
    monetary_value: np.ndarray  # float64: mean repeat-period spend, NaN when frequency == 0
    time_unit: str


def days_per_unit(time_unit: str) -> float:
    """Length of one model time unit in days; rejects anything but days and weeks."""
    try:
        return DAYS_PER_UNIT[time_unit]
    except KeyError:
        raise ValueError(f"time_unit must be one of {sorted(DAYS_PER_UNIT)}, got {time_unit!r}") from None


def summarize(
    customer_id: ArrayLike,
    purchase_date: ArrayLike,
    spend: ArrayLike,
    observation_end: np.datetime64 | str,
    time_unit: str = "weeks",
) -> RFMSummary:
    """Summarise transactions per customer (rules in the module docstring).

    `purchase_date` is truncated to calendar days; `observation_end` is inclusive.
    """
    unit = days_per_unit(time_unit)
    end = np.datetime64(observation_end, "D")
    dates = np.asarray(purchase_date, dtype="datetime64[D]")
    customers = np.asarray(customer_id)
    amounts = np.asarray(spend, dtype=np.float64)
    keep = dates <= end
    customers, dates, amounts = customers[keep], dates[keep], amounts[keep]

    ids, code = np.unique(customers, return_inverse=True)
    day = dates.astype(np.int64)
    order = np.lexsort((day, code))
    code, day, amounts = code[order], day[order], amounts[order]

    # Same-day purchases -> one period with the summed spend.
    new_period = np.ones(len(day), dtype=bool)
    new_period[1:] = (code[1:] != code[:-1]) | (day[1:] != day[:-1])
    starts = np.flatnonzero(new_period)
    period_code, period_day = code[starts], day[starts]
    period_spend = np.add.reduceat(amounts, starts) if len(starts) else amounts[:0]

    # Periods are sorted by day within customer, so the first/last period of each customer is its
    # first/last row here.
    periods = np.bincount(period_code, minlength=len(ids))
    first_row = np.cumsum(periods) - periods
    last_row = first_row + periods - 1
    first, last = period_day[first_row], period_day[last_row]
    total = np.bincount(period_code, weights=period_spend, minlength=len(ids))

    frequency = periods - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, (total - period_spend[first_row]) / frequency, np.nan)
    return RFMSummary(
        customer_id=ids,
        frequency=frequency.astype(np.int64),
        recency=(last - first) / unit,
        T=(end.astype(np.int64) - first) / unit,
        monetary_value=monetary,
        time_unit=time_unit,
    )
