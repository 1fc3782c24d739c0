"""`valuemarts report clv`: one row per requested group and customer, from the CLV marts.

The summary columns are recomputed from the purchase periods at the requested grouping, so a
customer in several groups is one customer when the groups are merged (the `clv_report` macro in
macros/metrics/clv.sql, which the marts' own summary and RFM scores use too).
"""

from __future__ import annotations

from typing import Any, Callable

from valuemarts.reports.templates import render

PERIODS = "mart_clv__purchase_periods"
CUSTOMERS = "mart_clv__customers"
SEGMENTS = "rfm_segments"   # a seed, in the reference schema


def report_sql(metric: dict[str, Any], by: list[str], where_sql: str | None, relation: Callable[..., str],
               engine: str = "duckdb") -> str:
    """The CLV report of `metric` per group of `by`.

    Parameters
    ----------
    metric : dict
        The compiled CLV metric.
    by : list of str
        Grouping columns, a subset of the metric's group_by.
    where_sql : str or None
        A filter on grouping columns, applied before anything is summarised.
    relation : callable
        Model name (and `default_schema`) -> relation, from valuemarts.reports.relations.
    engine : str
        duckdb, or spark: the SQL dialect.

    Returns
    -------
    str
        A SELECT over the CLV marts.
    """
    return render("clv_report", metric, by, where_sql, relation(PERIODS), relation(CUSTOMERS),
                  relation(SEGMENTS, default_schema="reference"), engine=engine)
