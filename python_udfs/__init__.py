"""Python UDFs for the math SQL can't do, registered on any DuckDB connection.

UDFs are not stored in the database file, so every reader (dbt through the
plugin in `python_udfs.dbt_plugin`, the CLI, the viewer, tests) calls
`register(con)` on its own connection. Registering is cheap: each UDF's code
is imported on its first call (`python_udfs.registry`).
"""

from __future__ import annotations

import duckdb

from python_udfs import registry


def register(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Register every valuemarts UDF on `con` (idempotent) and return it.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Any connection; UDFs it already has are left as they are.

    Returns
    -------
    duckdb.DuckDBPyConnection
        `con`, for chaining.

    Examples
    --------
    >>> import duckdb, python_udfs
    >>> con = python_udfs.register(duckdb.connect())
    >>> round(con.execute("select vm_norm_p_two_sided(1.96)").fetchone()[0], 3)
    0.05
    """
    registry.register_all(con)
    return con
