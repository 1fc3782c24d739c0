"""Cutoff-based windows: history (features) before a cutoff, prediction (realised value) after it.

    history_start        cutoff                pred_end
    ------(-------------------]---------------------]------> purchase date
            features                realised value

Both windows are left-open, right-closed in calendar days, so a purchase on the cutoff day is
history and every purchase belongs to exactly one window. Months are calendar months (a month
back from 31 March is 29 or 28 February), as the business means them.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from python_udfs.clv.summary import days_per_unit


def add_months(day: date, months: int) -> date:
    """`day` moved by whole calendar months, the day clamped to the target month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Window:
    cutoff: date
    history_months: int
    pred_months: int

    @property
    def history_start(self) -> date:
        """Exclusive start of the history window."""
        return add_months(self.cutoff, -self.history_months)

    @property
    def pred_end(self) -> date:
        """Inclusive end of the prediction window."""
        return add_months(self.cutoff, self.pred_months)

    def pred_length(self, time_unit: str) -> float:
        """Prediction window length in the model's time unit (exact days, not average months)."""
        return (self.pred_end - self.cutoff).days / days_per_unit(time_unit)

    def matured(self, data_end: date) -> bool:
        """True once the data covers the whole prediction window."""
        return self.pred_end <= data_end
