"""`valuemarts build --config CONFIG.toml [--ih PATH ...] [--holdings PATH ...] [--full-refresh]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from valuemarts.commands import add_target_argument


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("build", parents=[common], help="load new files and build the marts",
                              description="Load new export files, run dbt build and swap the new warehouse in "
                                          "atomically. Progress goes to stderr, the summary to stdout.")
    p.add_argument("--config", type=Path, required=True, help="the TOML config (reference format)")
    p.add_argument("--ih", nargs="+", default=None, metavar="PATH",
                   help="IH file, folder or glob (default: the paths of the last load)")
    p.add_argument("--holdings", nargs="+", default=None, metavar="PATH",
                   help="holdings file, folder or glob (default: the paths of the last load)")
    p.add_argument("--full-refresh", action="store_true", help="start from an empty warehouse and reload every file")
    p.add_argument("--wait", action="store_true",
                   help="if another build is running on this warehouse, wait for it instead of stopping at once")
    add_target_argument(p)
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import Warehouse

    summary = Warehouse(args.warehouse, read_only=False, target=args.target).build(
        args.config, ih=args.ih, holdings=args.holdings, full_refresh=args.full_refresh, wait=args.wait,
        log=progress)
    for line in summary.lines():
        print(line)
    return 0


def progress(message: str) -> None:
    """Progress lines go to stderr as they happen, so stdout keeps only the summary for scripts."""
    print(message, file=sys.stderr, flush=True)
