"""A metric report: the metric's state re-aggregated to the requested grouping and scored.

Each family module (valuemarts.reports.<family>) provides `report_sql(metric, by, where_sql,
prop)`, rendering the same dbt macro its mart is built with.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from valuemarts.config.expressions import translate_filter
from valuemarts.duck import connect
from valuemarts.errors import ValueMartsError
from valuemarts.ingest.landing import BUILDS
from valuemarts.paths import compiled_dir


@dataclass(frozen=True)
class ReportRequest:
    metric: str
    by: list[str]
    where: str | None = None
    prop: str | None = None


def load_metrics(warehouse: Path) -> dict[str, Any]:
    """The compiled metrics the warehouse was built with (recorded in it by `valuemarts build`),
    else those of the last `valuemarts compile` beside it (a warehouse built by plain dbt)."""
    con = connect(warehouse, read_only=True)
    try:
        row = con.execute(f"select report_specs from {BUILDS} order by built_at desc limit 1").fetchone()
    except (duckdb.CatalogException, duckdb.BinderException):  # no build recorded, or recorded before specs were
        row = None
    finally:
        con.close()
    if row is not None and row[0] is not None:
        return json.loads(row[0])["metrics"]
    specs = compiled_dir(warehouse) / "report_specs.json"
    if not specs.exists():
        raise ValueMartsError(f"{specs}: no compiled config; run `valuemarts build` or `valuemarts compile` first")
    return json.loads(specs.read_text())["metrics"]


def groupable_columns(metric: dict[str, Any]) -> list[str]:
    return [c["name"] for c in metric["group_columns"]]


def report_sql(metrics: dict[str, Any], request: ReportRequest) -> str:
    """Validate the request against the metric's grouping, then render the family's SQL."""
    if request.metric not in metrics:
        raise ValueMartsError(f"metric {request.metric!r} is not configured; configured: {', '.join(sorted(metrics))}")
    metric = metrics[request.metric]
    allowed = groupable_columns(metric)
    unknown = [c for c in request.by if c not in allowed]
    if unknown:
        raise ValueMartsError(f"--by: {', '.join(unknown)} not in metric {request.metric!r}'s grouping: {', '.join(allowed)}")
    where_sql = None
    if request.where:
        where = translate_filter(request.where, "--where")
        outside = sorted(set(where.columns) - set(allowed)) if where else []
        if outside:
            raise ValueMartsError(f"--where: may use grouping columns only ({', '.join(allowed)}); got {', '.join(outside)}")
        where_sql = where.sql if where else None
    module = importlib.import_module(f"valuemarts.reports.{metric['family']}")
    return module.report_sql(metric, list(dict.fromkeys(request.by)), where_sql, request.prop)
