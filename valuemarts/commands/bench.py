"""`valuemarts bench ingest|metrics|model-quality|clv|report|compare|scale|viewer [--rows N ...]`: print a
table, write JSON under bench/results/."""

from __future__ import annotations

import argparse

CHOICES = ("ingest", "metrics", "model-quality", "clv", "report", "compare", "scale", "viewer")


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("bench", parents=[common], help="benchmarks (table on stdout, JSON in bench/results)",
                              description="Benchmarks on generated demo data: a table on stdout, JSON under "
                                          "bench/results/.")
    p.add_argument("which", choices=CHOICES,
                   help="ingest: generation and staging throughput; metrics: build time and report latency by "
                        "grain; model-quality: t-digest AUC error and build cost; clv: CLV summary, fit and "
                        "training time; report: report latency as a process and in-process; compare: the reference "
                        "system (cdhdashboard, installed into bench/.reference-venv) and valuemarts on the same "
                        "generated files: time and peak memory of the full metric set and its reports, the append "
                        "of one day, agreement of the shared metrics; scale: full build and one-day append "
                        "at several IH sizes; viewer: first paint of the dashboard and the redraw after a "
                        "filter change, in Chromium")
    p.add_argument("--rows", type=int, nargs="+", default=None, metavar="N",
                   help="IH rows (default 1000000; report: 100000); model-quality takes several sizes "
                        "(default 1000000 5000000), clv takes customers (default 100000 1000000), scale takes "
                        "several sizes (default 1000000 5000000 20000000), compare one or more sizes (a run "
                        "and a JSON file each)")
    p.add_argument("--ih-format", choices=("zip", "parquet", "json"), default="zip",
                   help="ingest: IH export format to generate and stage (default %(default)s)")
    return p


def run(args: argparse.Namespace) -> int:
    if args.which == "ingest":
        from valuemarts.bench.ingest import run as run_ingest
        run_ingest((args.rows or [1_000_000])[0], args.ih_format)
    elif args.which == "metrics":
        from valuemarts.bench.metrics import run as run_metrics
        run_metrics((args.rows or [1_000_000])[0])
    elif args.which == "model-quality":
        from valuemarts.bench.model_quality import run as run_model_quality
        run_model_quality(args.rows or [1_000_000, 5_000_000])
    elif args.which == "clv":
        from valuemarts.bench.clv import run as run_clv
        run_clv(tuple(args.rows or [100_000, 1_000_000]))
    elif args.which == "compare":
        from valuemarts.bench.compare import run as run_compare
        for rows in args.rows or [1_000_000]:
            run_compare(rows)
    elif args.which == "scale":
        from valuemarts.bench.scale import SIZES, run as run_scale
        run_scale(args.rows or list(SIZES))
    elif args.which == "viewer":
        from viewer.bench import run as run_viewer
        run_viewer((args.rows or [1_000_000])[0])
    else:
        from valuemarts.bench.report import run as run_report
        run_report((args.rows or [100_000])[0])
    return 0
