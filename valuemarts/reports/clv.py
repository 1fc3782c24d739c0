"""`valuemarts report clv`: one row per requested group and customer, from the CLV marts.

The summary columns are recomputed from the purchase periods at the requested grouping, so a
customer in several groups is one customer when the groups are merged (the `clv_report` macro in
macros/metrics/clv.sql, which the marts' own summary and RFM scores use too).
"""

from __future__ import annotations

from typing import Any

from valuemarts.errors import ValueMartsError
from valuemarts.reports.templates import render

PERIODS = "marts.mart_clv__purchase_periods"
CUSTOMERS = "marts.mart_clv__customers"
SEGMENTS = "reference.rfm_segments"


def report_sql(metric: dict[str, Any], by: list[str], where_sql: str | None, prop: str | None) -> str:
    if prop is not None:
        raise ValueMartsError("--property: CLV reports have no score property "
                              "(it selects model_ml_scores' score column)")
    return render("clv_report", metric, by, where_sql, PERIODS, CUSTOMERS, SEGMENTS)
