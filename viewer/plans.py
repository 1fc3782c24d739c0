"""What each `[reports.*]` of the config needs: the report to ask for (metric, grouping,
property) and the chart to draw from its rows, by report type and metric family (the rules of
the reference system, ../docs: metrics-spec section 6).

A plan is data plus a pure drawing function, so the page only fetches and shows, and every rule
here is tested without a warehouse or a server (tests/test_viewer_charts.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import holoviews as hv
import polars as pl

from viewer.charts import clv, grids, lines, shapes
from viewer.charts.common import field

Draw = Callable[[pl.DataFrame], hv.Element]
# Report types drawn from one row per customer of `report(clv)`.
CLV_TYPES = ("histogram", "treemap", "exposure", "corr", "model", "rfm_density")


@dataclass(frozen=True)
class Plan:
    """One report: the rows to fetch and how to draw them.

    `source` is "report" (`Warehouse.report(metric, by, where, prop)`) or "histogram" (the
    merged t-digest bins of a described column, `histogram_sql`).
    """

    metric: str
    by: tuple[str, ...]
    prop: str | None
    draw: Draw
    source: str = "report"


def plan_for(spec: Mapping[str, Any], metrics: Mapping[str, Any]) -> Plan:
    """The plan of one compiled report spec (`Warehouse.specs()["reports"][name]`).

    Raises
    ------
    ValueError
        A type this metric's family has no chart for (the reference raises too), or keys a
        chart needs that are missing.
    """
    metric = metrics[spec["metric"]]
    family, kind = metric["family"], spec.get("type", "generic")
    name = spec["metric"]
    group_by = tuple(spec.get("group_by") or ())
    if family == "clv":
        return _clv_plan(name, kind, spec, group_by)
    if family == "experiment":
        keys = _unique([*group_by, field(spec, "facet_row"), field(spec, "facet_column")])
        return Plan(name, keys, None, partial(lines.experiment_chart, spec=spec, arm=metric["experiment_group"]))
    if family == "descriptive":
        return _descriptive_plan(name, kind, spec, group_by)
    if kind == "line":
        return Plan(name, _line_keys(spec), field(spec, "property"), partial(lines.line_chart, spec=spec))
    if kind == "gauge":
        return Plan(name, group_by, None, partial(shapes.gauge_chart, spec=spec, by=group_by))
    if kind == "bar_polar":
        return Plan(name, group_by, None, partial(shapes.bar_polar_chart, spec=spec))
    if kind == "treemap":
        color = field(spec, "color") or "Count"
        return Plan(name, group_by, None, partial(shapes.treemap_chart, levels=group_by, size="Count", color=color))
    if kind == "heatmap":
        return Plan(name, group_by, None, partial(grids.heatmap_chart, spec=spec, value=field(spec, "color")))
    if kind == "scatter":
        return Plan(name, group_by, field(spec, "property"), partial(grids.scatter_chart, spec=spec))
    # generic, and any type the reference maps to its generic plot: the user picks x and y
    chosen = {**spec, "x": field(spec, "x") or _first_of(("Day", *groupable(metric)), groupable(metric)),
              "y": field(spec, "y") or metric["scores"][0]}
    return Plan(name, _line_keys(chosen), field(spec, "property"), partial(lines.line_chart, spec=chosen))


def _descriptive_plan(name: str, kind: str, spec: Mapping[str, Any], group_by: tuple[str, ...]) -> Plan:
    facet_keys = _unique([field(spec, "facet_row"), field(spec, "facet_column")])
    if kind == "histogram":
        column = field(spec, "x")
        return Plan(name, facet_keys, column, partial(grids.histogram_chart, spec=spec, column=column), "histogram")
    if kind == "heatmap":
        prop, score = field(spec, "property"), spec.get("score", "Count")
        keys = _unique([field(spec, "x"), field(spec, "y")])
        return Plan(name, keys, prop, partial(grids.heatmap_chart, spec=spec, value=f"{prop}_{score}"))
    if kind == "funnel":
        stage = field(spec, "x")
        keys = _unique([stage, field(spec, "color"), *facet_keys])
        return Plan(name, keys, stage, partial(shapes.funnel_chart, spec=spec, count=f"{stage}_Count"))
    if kind == "boxplot":
        column = field(spec, "y")
        return Plan(name, _line_keys(spec), column, partial(shapes.box_chart, spec=spec, column=column))
    if kind == "line":
        column = field(spec, "y")
        score = spec.get("score", "Mean")
        return Plan(name, _line_keys(spec), column,
                    partial(lines.line_chart, spec={**spec, "y": f"{column}_{score}"}))
    raise ValueError(f"descriptive reports have no {kind!r} chart (line, boxplot, histogram, heatmap, funnel)")


def _clv_plan(name: str, kind: str, spec: Mapping[str, Any], group_by: tuple[str, ...]) -> Plan:
    facet_keys = _unique([field(spec, "color"), field(spec, "facet_row"), field(spec, "facet_column")])
    draws: dict[str, tuple[tuple[str, ...], Draw]] = {
        "histogram": (facet_keys, partial(clv.clv_histogram, spec=spec)),
        "treemap": (group_by, partial(clv.segment_treemap, by=group_by)),
        "exposure": ((), clv.exposure_chart),
        "corr": ((), partial(clv.corr_chart, spec=spec)),
        "model": ((), clv.model_chart),
        "rfm_density": ((), clv.rfm_density_chart),
    }
    if kind not in draws:
        raise ValueError(f"CLV reports have no {kind!r} chart ({', '.join(CLV_TYPES)})")
    keys, draw = draws[kind]
    return Plan(name, keys, None, draw)


def groupable(metric: Mapping[str, Any]) -> list[str]:
    """The columns a metric's reports may group and filter by."""
    return [c["name"] for c in metric["group_columns"]]


def _first_of(wanted: tuple[str, ...], available: list[str]) -> str:
    return next(c for c in wanted if c in available)


def _line_keys(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """A line report is grouped by its x, facets and colour, not its configured group_by."""
    return _unique([field(spec, k) for k in ("x", "facet_column", "facet_row", "color")])


def _unique(names: list[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))


def histogram_sql(metric: str, column: str, by: tuple[str, ...], where: str | None, bins: int = 100) -> str:
    """SQL for the digest histogram of `column` per group of `by`: the t-digests of the metric's
    state cells merged and split into `bins` equal bins from min to max (the reference's
    histogram). Names reach the SQL quoted."""
    from valuemarts.sql_names import quote_ident, quote_string

    keys = [quote_ident(c) for c in by]
    group = f"group by {', '.join(keys)}" if keys else ""
    condition = f"and ({where})" if where else ""
    return (f"with merged as (select {''.join(k + ', ' for k in keys)}tdigest_merge(list(value_digest)) as digest "
            f"from marts.mart_descriptive__state where metric_name = {quote_string(metric)} "
            f"and column_name = {quote_string(column)} and value_digest is not null {condition} {group}) "
            f"select {''.join(k + ', ' for k in keys)}unnest(tdigest_histogram(digest, {int(bins)}), recursive := true) "
            f"from merged order by all")
