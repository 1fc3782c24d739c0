"""`valuemarts marts`: the marts with their grain and row counts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from valuemarts.duck import connect
from valuemarts.errors import ValueMartsError
from valuemarts.dbt_runner import dbt_target_dir
from valuemarts.sql_names import quote_ident
from valuemarts.tables import FORMATS, write_rows

_SCHEMAS = ("marts", "intermediate", "staging")


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("marts", parents=[common], help="list the marts, their grain and row counts")
    p.add_argument("--all", action="store_true", help="also list intermediate and staging models")
    p.add_argument("--format", choices=FORMATS, default="table")
    return p


def run(args: argparse.Namespace) -> int:
    if not args.warehouse.exists():
        raise ValueMartsError(f"{args.warehouse}: no warehouse yet; run `valuemarts build` first")
    schemas = _SCHEMAS if args.all else _SCHEMAS[:1]
    grains = model_grains(args.warehouse)
    con = connect(args.warehouse, read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_schema in "
            f"({', '.join('?' for _ in schemas)}) order by table_schema, table_name", list(schemas)).fetchall()
        rows = [(f"{s}.{t}", grains.get(t, ""), con.execute(f"select count(*) from {quote_ident(s)}.{quote_ident(t)}").fetchone()[0])
                for s, t in tables]
    finally:
        con.close()
    write_rows(["mart", "grain", "rows"], rows, args.format)
    return 0


def model_grains(warehouse: Path) -> dict[str, str]:
    """`meta.grain` of each model, from dbt's manifest of the warehouse's last build."""
    manifest = dbt_target_dir(warehouse) / "manifest.json"
    if not manifest.exists():
        return {}
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {n["name"]: n.get("meta", {}).get("grain", "") for n in nodes if n["resource_type"] == "model"}
