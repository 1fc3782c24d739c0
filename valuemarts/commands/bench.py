"""`valuemarts bench ingest|metrics|compare|scale [--rows N]`: print a table, write JSON."""

from __future__ import annotations

import argparse

from valuemarts.errors import ValueMartsError


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("bench", parents=[common], help="benchmarks (table on stdout, JSON in bench/results)")
    p.add_argument("which", choices=("ingest", "metrics", "compare", "scale"))
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--ih-format", choices=("zip", "parquet", "json"), default="zip")
    return p


def run(args: argparse.Namespace) -> int:
    if args.which == "ingest":
        from valuemarts.bench.ingest import run as run_ingest
        run_ingest(args.rows, args.ih_format)
        return 0
    if args.which == "metrics":
        from valuemarts.bench.metrics import run as run_metrics
        run_metrics(args.rows)
        return 0
    raise ValueMartsError(f"bench {args.which}: not built yet (it comes with its metric issue)")
