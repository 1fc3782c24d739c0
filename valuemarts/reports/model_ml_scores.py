"""`valuemarts report model_ml_scores`: model quality re-aggregated from the exact score state.

The SQL is the mart's own macro (macros/metrics/model_ml_scores.sql) rendered for one property,
so a report at the mart's grain returns the mart's numbers.
"""

from __future__ import annotations

from typing import Any

from valuemarts.errors import ValueMartsError
from valuemarts.reports.templates import render

STATE = "intermediate.int_model_ml_scores__state"
ACTION_STATE = "intermediate.int_model_ml_scores__action_state"
PROPERTIES = ("Propensity", "FinalPropensity")


def report_sql(metric: dict[str, Any], by: list[str], where_sql: str | None, prop: str | None) -> str:
    """Scores of `metric` per group of `by` for the score column `prop` (default Propensity)."""
    prop = prop or PROPERTIES[0]
    if prop not in PROPERTIES:
        raise ValueMartsError(f"--property: {prop!r} is not a score column; expected one of {', '.join(PROPERTIES)}")
    scores = render("model_ml_scores_scores", metric, by, where_sql, [prop], STATE, ACTION_STATE)
    order = "\norder by " + ", ".join(str(i) for i in range(1, len(by) + 1)) if by else ""
    return f"select * exclude (property)\nfrom (\n{scores}\n) as scores{order}"
