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
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.demo import write_demo  # numpy/polars only when generating

    summary = write_demo(args.out, rows=args.rows, seed=args.seed, days=args.days,
                         ih_format=args.ih_format, holdings_format=args.holdings_format)
    print(f"wrote {args.out}: {summary}")
    return 0
