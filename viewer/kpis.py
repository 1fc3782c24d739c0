"""The dashboard's KPIs, each from `Warehouse.report` of its metric under the global filters,
and the two intervals the reports don't carry: a per-arm Wilson interval and the lift interval
of the Test and Control arms, by the formulas the marts use elsewhere (checked against them in
tests/test_viewer_logic.py)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

import polars as pl

from viewer.marts import Marts
from viewer.plans import groupable

Z_95 = 1.959963984540054   # the 97.5% normal quantile, as the scoring macros write it
ALPHA = 0.05
TEST, CONTROL = "Test", "Control"   # the arms of ModelControlGroup that Lift compares


@dataclass(frozen=True)
class Kpi:
    """One card: its value at full precision, how to print it, lines under it, a trend."""

    key: str
    title: str
    value: Any
    kind: str
    lines: list[str] = field(default_factory=list)
    trend: pl.DataFrame | None = None
    trend_x: str = "Day"
    trend_y: str = ""


def wilson(positives: float, count: float, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a rate (the engagement family's CTR_ci_low/high); None for Count 0."""
    if not count:
        return None
    p = positives / count
    centre = (p + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return centre - half, centre + half


def lift_interval(p_a: float, n_a: float, p_c: float, n_c: float, z: float = Z_95) -> tuple[float, float] | None:
    """95% interval of the lift CTR_a / CTR_c - 1, on the log scale of the rate ratio (the
    experiment family's lift_ci_low/high); None unless both arms have positives."""
    if not (p_a > 0 and p_c > 0 and n_a > 0 and n_c > 0):
        return None
    ratio = (p_a / n_a) / (p_c / n_c)
    se = math.sqrt(1 / p_a - 1 / n_a + 1 / p_c - 1 / n_c)
    return math.exp(math.log(ratio) - z * se) - 1, math.exp(math.log(ratio) + z * se) - 1


def first_metric(specs: Mapping[str, Any], family: str) -> str | None:
    """The first configured metric of a family (the KPI of `engagement_web` and `engagement` is
    the first one's)."""
    return next((name for name, m in specs["metrics"].items() if m["family"] == family), None)


Where = Callable[[str], Optional[str]]


def dashboard_kpis(marts: Marts, where: Where) -> list[Kpi]:
    """Every KPI card the configured metrics allow, in the dashboard's order."""
    specs = marts.specs()
    cards: list[Kpi] = []
    # One report at a time, never from a thread pool: the scoring SQL calls Python UDFs, and
    # DuckDB 1.5 crashes when two threads of one process call them at once.
    for family, make in (("engagement", _engagement), ("conversion", _conversion),
                         ("model_ml_scores", _model_quality), ("clv", _clv)):
        metric = first_metric(specs, family)
        if metric is not None:
            cards += make(marts, metric, where(metric), "Day" in groupable(specs["metrics"][metric]))
    return cards


def _daily(marts: Marts, metric: str, where: str | None, has_day: bool, prop: str | None = None) -> pl.DataFrame | None:
    return marts.report(metric, ["Day"], where, prop) if has_day else None


def _engagement(marts: Marts, metric: str, where: str | None, has_day: bool) -> list[Kpi]:
    total = marts.report(metric, (), where).row(0, named=True)
    arms = {r["ModelControlGroup"]: r for r in marts.report(metric, ["ModelControlGroup"], where).iter_rows(named=True)}
    daily = _daily(marts, metric, where, has_day)
    ci = (total["CTR_ci_low"], total["CTR_ci_high"])
    test, control = arms.get(TEST), arms.get(CONTROL)
    interval = lift_interval(test["Positives"], test["Count"], control["Positives"], control["Count"]) \
        if test and control else None
    p = total["Lift_P_Val"]
    verdict = "n/a" if p is None else ("significant at 5%" if p < ALPHA else "not significant at 5%")
    return [
        Kpi("ctr", "Click-through rate", total["CTR"], "percent",
            [_interval_line(ci), f"{total['Positives']:,} clicks of {total['Count']:,}"], daily, trend_y="CTR"),
        Kpi("lift", "Lift vs control", total["Lift"], "percent",
            [_interval_line(interval), f"p = {_p(p)}, {verdict}"], daily, trend_y="Lift"),
    ]


def _conversion(marts: Marts, metric: str, where: str | None, has_day: bool) -> list[Kpi]:
    total = marts.report(metric, (), where).row(0, named=True)
    daily = _daily(marts, metric, where, has_day)
    return [
        Kpi("conversion_rate", "Conversion rate", total["ConversionRate"], "percent",
            [f"{total['Positives']:,} conversions of {total['Count']:,}",
             f"{_num(total['AvgTouchpoints'])} touchpoints per conversion"], daily, trend_y="ConversionRate"),
        Kpi("revenue", "Revenue", total["Revenue"], "money",
            [f"{_num(total['RevenuePerConversion'])} per conversion"], daily, trend_y="Revenue"),
    ]


def _model_quality(marts: Marts, metric: str, where: str | None, has_day: bool) -> list[Kpi]:
    total = marts.report(metric, (), where).row(0, named=True)
    daily = _daily(marts, metric, where, has_day)
    return [Kpi("auc", "Model ROC AUC", total["roc_auc"], "number",
                [f"average precision {_num(total['average_precision'])}",
                 f"personalization {_num(total['personalization'])}, novelty {_num(total['novelty'])}"],
                daily, trend_y="roc_auc")]


def _clv(marts: Marts, metric: str, where: str | None, has_day: bool) -> list[Kpi]:
    customers = marts.report(metric, (), where)
    value = customers["lifetime_value"]
    return [Kpi("clv", "Customer lifetime value", value.mean(), "money",
                [f"{customers.height:,} customers", f"{value.sum():,.0f} in total"])]


def _interval_line(interval: tuple[float, float] | None) -> str:
    if interval is None or any(v is None for v in interval):
        return "95% CI n/a"
    return f"95% CI {100 * interval[0]:.2f}% to {100 * interval[1]:.2f}%"


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.3g}"
