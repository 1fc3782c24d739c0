"""`valuemarts report METRIC [--by COL,...] [--where SQL] [--property NAME] [--format ...]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from valuemarts.commands import add_target_argument
from valuemarts.errors import ValueMartsError
from valuemarts.paths import default_warehouse
from valuemarts.tables import FORMAT_HELP, FORMATS


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("report", parents=[common], add_help=False,
                              help="a metric re-aggregated from its state to any grouping",
                              description="A metric re-aggregated from its state to the grouping given by --by.")
    p.add_argument("-h", "--help", action=_HelpWithMetrics, nargs=0,
                   help="show this help, with the metrics configured in the warehouse, and exit")
    p.add_argument("metric", help="a metric named in the warehouse's config (listed below)")
    p.add_argument("--by", default="", metavar="COL,COL...",
                   help="comma-separated grouping columns, any of the metric's group_by (default: none, one row for all data)")
    p.add_argument("--where", default=None, metavar="SQL",
                   help="filter on grouping columns, applied before aggregation (for example \"Channel == 'Web'\")")
    p.add_argument("--property", dest="prop", default=None, metavar="NAME",
                   help="model_ml_scores: score column, Propensity (default) or FinalPropensity; "
                        "descriptive: one described column")
    p.add_argument("--format", choices=FORMATS, default="csv", help=FORMAT_HELP)
    add_target_argument(p)
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import Warehouse
    from valuemarts.tables import write_frame

    by = [c.strip() for c in args.by.split(",") if c.strip()]
    write_frame(Warehouse.open(args.warehouse, target=args.target).report(args.metric, by, args.where, args.prop),
                args.format)
    return 0


class _HelpWithMetrics(argparse.Action):
    """-h/--help that lists the metrics of the warehouse in question, read only when help is asked."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        parser.epilog = configured_metrics(namespace.warehouse or default_warehouse())
        parser.print_help()
        parser.exit()


def configured_metrics(warehouse: Path) -> str:
    """One line naming the metrics `report` accepts on `warehouse`, or why there are none to name."""
    import duckdb

    from valuemarts.api import Warehouse

    try:
        names = Warehouse.open(warehouse).metrics()
    except (ValueMartsError, duckdb.Error) as exc:
        return f"metrics: none to list ({exc})"
    return f"metrics configured in {warehouse}: {', '.join(names)}"
