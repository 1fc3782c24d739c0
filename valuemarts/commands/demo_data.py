"""`valuemarts demo-data --out DIR`: deterministic demo IH, holdings and a config that fits them."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("demo-data", parents=[common], help="generate deterministic demo exports and config")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="folder for ih/, holdings/ and config.toml (created if absent)")
    p.add_argument("--rows", type=int, default=100_000, help="IH rows (default %(default)s)")
    p.add_argument("--seed", type=int, default=42, help="random seed; the same seed gives the same files (default %(default)s)")
    p.add_argument("--days", type=int, default=90, help="days of IH, one export file per day (default %(default)s)")
    p.add_argument("--ih-format", choices=("zip", "parquet", "json"), default="zip",
                   help="IH file format; zip is a Pega dataset export (default %(default)s)")
    p.add_argument("--holdings-format", choices=("zip", "parquet", "csv", "xlsx"), default="zip",
                   help="Product Holdings file format (default %(default)s)")
    p.add_argument("--customers", type=int, default=None,
                   help="Product Holdings customers (default 20000, about 2.2 holdings each)")
    p.add_argument("--by-day", action="store_true",
                   help="generate and write IH one day at a time, so memory holds one day whatever --rows is "
                        "(other rows than without it: each day is simulated on its own)")
    p.add_argument("--append-day", action="store_true",
                   help="only add the IH file of the day after the --days window to DIR/ih, as --by-day with the "
                        "same --rows, --days and --seed would continue it; nothing else is written or removed")
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.demo import append_ih_day, write_demo  # numpy/polars only when generating

    if args.append_day:
        path = append_ih_day(args.out, rows=args.rows, seed=args.seed, days=args.days, ih_format=args.ih_format)
        print(f"wrote {path}")
        return 0
    summary = write_demo(args.out, rows=args.rows, seed=args.seed, days=args.days, ih_format=args.ih_format,
                         holdings_format=args.holdings_format, by_day=args.by_day, customers=args.customers)
    print(f"wrote {args.out}: {summary}")
    return 0
