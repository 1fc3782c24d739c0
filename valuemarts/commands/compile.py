"""`valuemarts compile CONFIG.toml [-o DIR]`: validate and write dbt vars and report specs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from valuemarts.config import schema
from valuemarts.config.compiler import compile_file
from valuemarts.config.output import write_compiled
from valuemarts.duck import connect
from valuemarts.ingest.landing import LANDING_SCHEMA, landing_columns
from valuemarts.paths import PROJECT_DIR, compiled_dir


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("compile", parents=[common], help="validate a TOML config and compile it for dbt")
    p.add_argument("config", type=Path)
    p.add_argument("-o", "--out", type=Path, default=None, help="output folder (default: beside the warehouse)")
    return p


def run(args: argparse.Namespace) -> int:
    ih_columns, holdings_columns = _loaded_columns(args.warehouse)
    compiled = compile_file(args.config, ih_columns=ih_columns, holdings_columns=holdings_columns)
    for warning in compiled.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for path in write_compiled(compiled, args.out or compiled_dir(args.warehouse), PROJECT_DIR):
        print(f"wrote {path}")
    return 0


def _loaded_columns(warehouse: Path) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """Columns of the data already loaded, with their types, so column names and expression types
    are checked against real data."""
    if not warehouse.exists():
        return None, None
    con = connect(warehouse, read_only=True)
    try:
        return _column_types(con, "ih"), _column_types(con, "holdings")
    finally:
        con.close()


def _column_types(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str] | None:
    """Staged (renamed) column -> its landing type, which staging keeps for columns it doesn't
    type; None for a source with no data yet."""
    types = dict(con.execute("select column_name, data_type from information_schema.columns "
                             "where table_schema = ? and table_name = ?", [LANDING_SCHEMA, f"{source}_raw"]).fetchall())
    renamed = schema.renamed_columns(landing_columns(con, source))
    return {name: types[raw] for raw, name in renamed.items()} or None
