"""Python UDFs for the math SQL can't do, registered on any DuckDB connection.

UDFs are not stored in the database file, so every reader (dbt through the
plugin in `python_udfs.dbt_plugin`, the CLI, the viewer, tests) calls
`register(con)` on its own connection.
"""

from __future__ import annotations

import duckdb

from python_udfs import registry


def register(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Register every valuemarts UDF on `con` (idempotent) and return it."""
    registry.register_all(con)
    return con
