"""One module per CLI command; each exposes `add_parser(subparsers)` and `run(args) -> int`."""

from __future__ import annotations

import argparse


def add_target_argument(parser: argparse.ArgumentParser) -> None:
    """`--target duckdb|spark` for the commands that run on Spark too (load, build, report, marts)."""
    parser.add_argument("--target", choices=("duckdb", "spark"), default="duckdb",
                        help="the engine: duckdb (default), or spark, where --warehouse names the Spark "
                             "warehouse folder (default data/spark; README \"Running on Spark\")")
