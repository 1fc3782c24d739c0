"""`valuemarts marts [--all]`: the marts with their grain and row counts."""

from __future__ import annotations

import argparse

from valuemarts.commands import add_target_argument
from valuemarts.tables import FORMAT_HELP, FORMATS


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("marts", parents=[common], help="list the marts, their grain and row counts")
    p.add_argument("--all", action="store_true", help="also list intermediate and staging models")
    p.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    add_target_argument(p)
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import Warehouse
    from valuemarts.tables import write_frame

    write_frame(Warehouse.open(args.warehouse, target=args.target).marts(include_all=args.all), args.format)
    return 0
