"""`valuemarts bench ingest|metrics|model-quality|clv|compare|scale [--rows N ...]`: print a table,
write JSON under bench/results/."""

from __future__ import annotations

import argparse

from valuemarts.errors import ValueMartsError

CHOICES = ("ingest", "metrics", "model-quality", "clv", "compare", "scale")


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("bench", parents=[common], help="benchmarks (table on stdout, JSON in bench/results)")
    p.add_argument("which", choices=CHOICES)
    p.add_argument("--rows", type=int, nargs="+", default=None,
                   help="IH rows (model-quality: several sizes; clv: customers); default 1000000")
    p.add_argument("--ih-format", choices=("zip", "parquet", "json"), default="zip")
    return p


def run(args: argparse.Namespace) -> int:
    rows = args.rows or [1_000_000]
    if args.which == "ingest":
        from valuemarts.bench.ingest import run as run_ingest
        run_ingest(rows[0], args.ih_format)
    elif args.which == "metrics":
        from valuemarts.bench.metrics import run as run_metrics
        run_metrics(rows[0])
    elif args.which == "model-quality":
        from valuemarts.bench.model_quality import run as run_model_quality
        run_model_quality(args.rows or [1_000_000, 5_000_000])
    elif args.which == "clv":
        from valuemarts.bench.clv import run as run_clv
        run_clv(tuple(args.rows or [100_000, 1_000_000]))
    else:
        raise ValueMartsError(f"bench {args.which}: not built yet (it comes with its issue)")
    return 0
