"""`valuemarts report METRIC [--by COL,...] [--where SQL] [--property NAME] [--format ...]`."""

from __future__ import annotations

import argparse

import duckdb

from valuemarts.duck import connect
from valuemarts.errors import ValueMartsError
from valuemarts.reports.query import ReportRequest, load_metrics, report_sql
from valuemarts.tables import FORMATS, write_rows


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("report", parents=[common], help="a metric re-aggregated to any grouping")
    p.add_argument("metric")
    p.add_argument("--by", default="", help="comma-separated grouping columns (none = all data)")
    p.add_argument("--where", default=None, help="filter on grouping columns, before aggregation")
    p.add_argument("--property", dest="prop", default=None, help="score column (model_ml_scores)")
    p.add_argument("--format", choices=FORMATS, default="csv")
    return p


def run(args: argparse.Namespace) -> int:
    if not args.warehouse.exists():
        raise ValueMartsError(f"{args.warehouse}: no warehouse yet; run `valuemarts build` first")
    by = [c.strip() for c in args.by.split(",") if c.strip()]
    sql = report_sql(load_metrics(args.warehouse), ReportRequest(args.metric, by, args.where, args.prop))
    con = connect(args.warehouse, read_only=True)
    try:
        result = con.execute(sql)
        columns = [d[0] for d in result.description]
        rows = result.fetchall()
    except duckdb.Error as exc:
        raise ValueMartsError(f"report {args.metric}: {str(exc).splitlines()[0]}") from exc
    finally:
        con.close()
    write_rows(columns, rows, args.format)
    return 0
