"""`valuemarts sql "SELECT ..."`: a read-only query over the warehouse; writes are refused."""

from __future__ import annotations

import argparse

import duckdb

from valuemarts.duck import connect
from valuemarts.errors import ValueMartsError
from valuemarts.tables import FORMATS, write_rows

_READ_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


def add_parser(subparsers, common) -> argparse.ArgumentParser:
    p = subparsers.add_parser("sql", parents=[common], help="run a read-only SQL query over the marts")
    p.add_argument("query")
    p.add_argument("--format", choices=FORMATS, default="csv")
    return p


def run(args: argparse.Namespace) -> int:
    columns, rows = read_only_query(args.warehouse, args.query)
    write_rows(columns, rows, args.format)
    return 0


def read_only_query(warehouse, query: str) -> tuple[list[str], list[tuple]]:
    """One SELECT statement on a read-only connection (two locks: the statement type and the file mode)."""
    if not warehouse.exists():
        raise ValueMartsError(f"{warehouse}: no warehouse yet; run `valuemarts build` first")
    con = connect(warehouse, read_only=True)
    try:
        try:
            statements = con.extract_statements(query)
        except duckdb.Error as exc:
            raise ValueMartsError(f"query: {str(exc).splitlines()[0]}") from exc
        if len(statements) != 1:
            raise ValueMartsError(f"query: expected one statement, got {len(statements)}")
        if statements[0].type not in _READ_STATEMENTS:
            raise ValueMartsError(f"query: only SELECT is allowed here; refused a {statements[0].type.name} statement")
        try:
            result = con.execute(query)
        except duckdb.Error as exc:
            raise ValueMartsError(f"query: {str(exc).splitlines()[0]}") from exc
        return [d[0] for d in result.description], result.fetchall()
    finally:
        con.close()
