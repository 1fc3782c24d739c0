"""`valuemarts build --config CONFIG.toml [--ih PATH ...] [--holdings PATH ...] [--full-refresh]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from valuemarts.build import build


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("build", parents=[common], help="load new files and build the marts")
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--ih", nargs="+", default=None, metavar="PATH", help="IH file, folder or glob")
    p.add_argument("--holdings", nargs="+", default=None, metavar="PATH", help="holdings file, folder or glob")
    p.add_argument("--full-refresh", action="store_true", help="start from an empty warehouse and reload every file")
    p.add_argument("--wait", action="store_true",
                   help="if another build is running on this warehouse, wait for it instead of stopping at once")
    return p


def run(args: argparse.Namespace) -> int:
    summary = build(args.config, args.warehouse, args.ih, args.holdings, args.full_refresh,
                    log=lambda m: print(m, file=sys.stderr), wait=args.wait)
    for line in summary.lines():
        print(line)
    return 0
