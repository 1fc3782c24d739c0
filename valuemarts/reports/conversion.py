"""`valuemarts report` for conversion metrics: the mart's own scoring macro over its state."""

from __future__ import annotations

from typing import Any

from valuemarts.reports.templates import render

STATE = "intermediate.int_conversion__state"


def report_sql(metric: dict[str, Any], by: list[str], where_sql: str | None, prop: str | None) -> str:
    return render("conversion_scores", STATE, metric, by, where_sql)
