"""Filters as SQL text for `Warehouse.report(where=...)`: chosen values of grouping columns,
quoted, never pasted (a value with quotes is just a value)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from valuemarts.sql_names import quote_ident, quote_string


def literal(value: Any) -> str:
    """A SQL literal for one value of a grouping column."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP {quote_string(value.isoformat())}"
    if isinstance(value, dt.date):
        return f"DATE {quote_string(value.isoformat())}"
    return quote_string(str(value))


def where_sql(selections: Mapping[str, Sequence[Any]], allowed: Collection[str]) -> str | None:
    """`col IN (...) AND ...` for the selections on columns in `allowed`; None when nothing applies.

    A selection on a column the metric can't group by is left out rather than refused: global
    filters apply to every metric that has the column. An empty selection matches nothing
    (callers drop the columns where nothing was chosen, which mean "all").

    Examples
    --------
    >>> where_sql({"Channel": ["Web", "It's"], "Year": [2024], "Other": ["x"]}, {"Channel", "Year"})
    '"Channel" IN (\\'Web\\', \\'It\\'\\'s\\') AND "Year" IN (2024)'
    """
    parts = [f"{quote_ident(column)} IN ({', '.join(literal(v) for v in values)})" if values else "FALSE"
             for column, values in selections.items() if column in allowed]
    return " AND ".join(parts) or None


def merged(*selections: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """Selections combined; a column chosen in two of them keeps the values both allow."""
    out: dict[str, list[Any]] = {}
    for selection in selections:
        for column, values in selection.items():
            if not values:
                continue
            out[column] = [v for v in out[column] if v in values] if column in out else list(values)
    return out
