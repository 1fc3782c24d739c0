"""`valuemarts load --config CONFIG.toml [--ih PATH ...] [--holdings PATH ...]`: the ingest half of
`build`, for orchestrators that run `dbt build` themselves."""

from __future__ import annotations

import argparse
from pathlib import Path

from valuemarts.commands import add_target_argument
from valuemarts.commands.build import progress


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("load", parents=[common],
                              help="load new export files into the landing tables (no dbt); then run `dbt build`")
    p.add_argument("--config", type=Path, required=True, help="the TOML config (reference format)")
    p.add_argument("--ih", nargs="+", default=None, metavar="PATH",
                   help="IH file, folder or glob (default: the paths of the last load)")
    p.add_argument("--holdings", nargs="+", default=None, metavar="PATH",
                   help="holdings file, folder or glob (default: the paths of the last load)")
    p.add_argument("--wait", action="store_true",
                   help="if another build or load is running on this warehouse, wait for it instead of stopping at once")
    add_target_argument(p)
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import Warehouse

    summary = Warehouse(args.warehouse, read_only=False, target=args.target).load(
        args.config, ih=args.ih, holdings=args.holdings, wait=args.wait, log=progress)
    for line in summary.lines():
        print(line)
    return 0
