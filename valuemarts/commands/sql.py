"""`valuemarts sql "SELECT ..." [--format ...]`: one read-only query over the warehouse
(checks in valuemarts.user_sql)."""

from __future__ import annotations

import argparse

from valuemarts.tables import FORMAT_HELP, FORMATS


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("sql", parents=[common], help="run a read-only SQL query over the marts",
                              description="Run one read-only SELECT over the warehouse; statements that write "
                                          "or touch files outside it are refused (exit 1).")
    p.add_argument("query", help="one SELECT (or EXPLAIN of one), for example \"select * from marts.mart_file_loads\"")
    p.add_argument("--format", choices=FORMATS, default="csv", help=FORMAT_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import Warehouse
    from valuemarts.tables import write_frame

    write_frame(Warehouse.open(args.warehouse).sql(args.query), args.format)
    return 0
