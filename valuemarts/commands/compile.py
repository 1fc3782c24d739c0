"""`valuemarts compile CONFIG.toml [-o DIR]`: validate and write dbt vars and report specs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from valuemarts.config.compiler import compile_file
from valuemarts.config.output import write_compiled
from valuemarts.paths import compiled_dir, project_dir


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("compile", parents=[common], help="validate a TOML config and compile it for dbt",
                              description="Validate a config and write the dbt vars and report specs; errors are "
                                          "printed one per line as KEY.PATH: message.")
    p.add_argument("config", type=Path, help="the TOML config (reference format)")
    p.add_argument("-o", "--out", type=Path, default=None, metavar="DIR",
                   help="output folder (default: beside the warehouse)")
    return p


def run(args: argparse.Namespace) -> int:
    from valuemarts.api import Warehouse

    ih_columns, holdings_columns = Warehouse.open(args.warehouse).loaded_columns()
    compiled = compile_file(args.config, ih_columns=ih_columns, holdings_columns=holdings_columns)
    for warning in compiled.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for path in write_compiled(compiled, args.out or compiled_dir(args.warehouse), project_dir()):
        print(f"wrote {path}")
    return 0

