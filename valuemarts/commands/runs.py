"""`valuemarts runs [--limit N] [--format ...]`: the run ledger, failed runs included."""

from __future__ import annotations

import argparse

from valuemarts.tables import FORMAT_HELP, FORMATS


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("runs", parents=[common], help="list the builds and loads of this warehouse",
                              description="The run ledger, newest first: run id, start, end, status (ok, failed, "
                                          "stopped; running while a run is on or after it was killed), config "
                                          "version, files and rows loaded and rejected, models built, error.")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the last N runs")
    p.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import Warehouse
    from valuemarts.tables import write_frame

    write_frame(Warehouse.open(args.warehouse).runs(args.limit), args.format)
    return 0
