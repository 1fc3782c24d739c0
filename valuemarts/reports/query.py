"""A metric report: the metric's state re-aggregated to the requested grouping and scored.

Every IH family renders the same way, through its row in the registry (valuemarts.config.families): its
scoring macro `<family>_scores(state, metric, by, where_sql, property, helper_states)` over its
public state model, the very SQL its mart is built with. CLV reports read the CLV marts
(valuemarts.reports.clv).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from valuemarts.duck import connect
from valuemarts.errors import ValueMartsError
from valuemarts.config.families import FAMILIES, Family
from valuemarts.ingest.landing import BUILDS
from valuemarts.paths import compiled_dir
from valuemarts.reports import clv
from valuemarts.reports.relations import relation_resolver
from valuemarts.reports.templates import render, returned


@dataclass(frozen=True)
class ReportRequest:
    metric: str
    by: list[str]
    where: str | None = None
    prop: str | None = None


def load_metrics(warehouse: Path, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, Any]:
    """The compiled metrics the warehouse was built with (`load_report_specs`' "metrics").
    `con`: an open connection to the warehouse, to use instead of opening one."""
    return load_report_specs(warehouse, con)["metrics"]


def load_report_specs(warehouse: Path, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, Any]:
    """The compiled report specs the warehouse was built with (recorded in it by `valuemarts build`),
    else those of the last `valuemarts compile` beside it (a warehouse built by plain dbt): config
    name and hash, global filters, metrics, reports, copyright.
    `con`: an open connection to the warehouse, to use instead of opening one."""
    own = con is None
    con = connect(warehouse, read_only=True) if own else con
    try:
        row = con.execute(f"select report_specs from {BUILDS} order by built_at desc limit 1").fetchone()
    except (duckdb.CatalogException, duckdb.BinderException):  # no build recorded, or recorded before specs were
        row = None
    finally:
        if own:
            con.close()
    if row is not None and row[0] is not None:
        return json.loads(row[0])
    specs = compiled_dir(warehouse) / "report_specs.json"
    if not specs.exists():
        raise ValueMartsError(f"{specs}: no compiled config; run `valuemarts build` or `valuemarts compile` first")
    return json.loads(specs.read_text())


def groupable_columns(metric: dict[str, Any]) -> list[str]:
    return [c["name"] for c in metric["group_columns"]]


def report_sql(metrics: dict[str, Any], request: ReportRequest, warehouse: Path | None = None,
               engine: str = "duckdb") -> str:
    """The SQL of one report: validate the request against the metric's grouping, then render the
    family's scoring macro over its state.

    Parameters
    ----------
    metrics : dict
        The compiled metrics (`load_metrics`).
    request : ReportRequest
        Metric, grouping columns, filter on grouping columns and `--property`.
    warehouse : Path, optional
        The warehouse the SQL will run on: its build's dbt manifest says where the state models
        are. Without it they are read from the marts schema.
    engine : str
        duckdb, or spark: the SQL is in that engine's dialect (the scoring macros' spark__
        implementations).

    Returns
    -------
    str
        A SELECT for a connection to the warehouse.

    Raises
    ------
    ValueMartsError
        An unknown metric, grouping column or property, or a filter outside the grouping columns.
    """
    if request.metric not in metrics:
        raise ValueMartsError(f"metric {request.metric!r} is not configured; configured: {', '.join(sorted(metrics))}")
    metric = metrics[request.metric]
    allowed = groupable_columns(metric)
    unknown = [c for c in request.by if c not in allowed]
    if unknown:
        raise ValueMartsError(f"--by: {', '.join(unknown)} not in metric {request.metric!r}'s grouping: {', '.join(allowed)}")
    where_sql = None
    if request.where:
        from valuemarts.config.expressions import translate_filter  # sqlglot: only when filtering

        where = translate_filter(request.where, "--where")
        outside = sorted(set(where.columns) - set(allowed)) if where else []
        if outside:
            raise ValueMartsError(f"--where: may use grouping columns only ({', '.join(allowed)}); got {', '.join(outside)}")
        where_sql = where.sql if where else None
    family = FAMILIES[metric["family"]]
    by = list(dict.fromkeys(request.by))
    prop = report_property(family, metric, request.prop)
    relation = relation_resolver(warehouse, engine)
    if family.scoring_macro is None:
        return clv.report_sql(metric, by, where_sql, relation, engine)
    helper_states = {key: relation(model) for key, model in family.helper_states.items()}
    return render(family.scoring_macro, relation(family.state_model), metric, by, where_sql, prop, helper_states,
                  engine=engine)


def report_property(family: Family, metric: dict[str, Any], requested: str | None) -> str | None:
    """The property a report scores: the requested one, checked against the family's choices,
    else the family's default (None: every choice, or a family without properties).

    Raises
    ------
    ValueMartsError
        A property for a family without properties, or one that isn't among the choices.
    """
    rule = family.property_rule
    if rule is None:
        if requested is not None:
            raise ValueMartsError(f"--property: {family.name} reports have no property (it selects model_ml_scores' "
                                  "score column or a descriptive metric's described column)")
        return None
    if requested is None:
        return rule.default
    choices = returned(rule.choices_macro, metric)
    if requested not in choices:
        raise ValueMartsError(f"--property: {requested!r} is not a {rule.selects} of metric {metric['name']!r}; "
                              f"expected one of {', '.join(choices)}")
    return requested
