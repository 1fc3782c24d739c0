"""`valuemarts report` for experiment metrics: the mart's own scoring macro over its state."""

from __future__ import annotations

from typing import Any

from valuemarts.reports.templates import render

STATE = "intermediate.int_experiment__state"


def report_sql(metric: dict[str, Any], by: list[str], where_sql: str | None, prop: str | None) -> str:
    return render("experiment_scores", STATE, metric, by, where_sql)
