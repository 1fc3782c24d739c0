"""`valuemarts report descriptive`: descriptive statistics re-aggregated from the long state.

The SQL is the mart's own macro (macros/metrics/descriptive.sql); `--property` narrows the
output to one described column, the way the reference's descriptive heatmap picks a `property`.
"""

from __future__ import annotations

import json
from typing import Any

from valuemarts.errors import ValueMartsError
from valuemarts.reports.templates import render

STATE = "intermediate.int_descriptive__state"


def report_sql(metric: dict[str, Any], by: list[str], where_sql: str | None, prop: str | None) -> str:
    """`<Column>_<Score>` of `metric` per group of `by`, for every described column or just `prop`."""
    columns = json.loads(render("descriptive_described_columns_json", metric))
    if prop is not None:
        if prop not in columns:
            raise ValueMartsError(f"--property: {prop!r} is not described by metric {metric['name']!r}; "
                                  f"described: {', '.join(columns)}")
        columns = [prop]
    scores = render("descriptive_scores", metric, by, where_sql, columns, STATE)
    order = "\norder by " + ", ".join(str(i) for i in range(1, len(by) + 1)) if by else ""
    return f"select *\nfrom (\n{scores}\n) as scores{order}"
