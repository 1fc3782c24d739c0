"""`valuemarts compare-configs A.toml B.toml --ih PATH [--holdings PATH]`: the same files built
under two configs, metric differences side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from valuemarts.tables import FORMAT_HELP, FORMATS


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "compare-configs", parents=[common], help="build two configs on the same files and compare their metrics",
        description="Builds both configs on the same files into temporary warehouses (your warehouse is not "
                    "touched) and prints, for every metric, report row and numeric column, the value under A, "
                    "under B and B - A. Progress goes to stderr.")
    p.add_argument("config_a", type=Path, metavar="A.toml", help="the first config (column a)")
    p.add_argument("config_b", type=Path, metavar="B.toml", help="the second config (column b)")
    p.add_argument("--ih", nargs="+", default=None, metavar="PATH", help="IH file, folder or glob")
    p.add_argument("--holdings", nargs="+", default=None, metavar="PATH", help="holdings file, folder or glob")
    p.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import compare_configs
    from valuemarts.commands.build import progress
    from valuemarts.errors import ValueMartsError
    from valuemarts.tables import write_frame

    if not args.ih and not args.holdings:
        raise ValueMartsError("compare-configs: give the files to build with --ih and/or --holdings")
    write_frame(compare_configs(args.config_a, args.config_b, args.ih, args.holdings, log=progress), args.format)
    return 0
