"""The list of UDF modules; each exposes `UDFS`, a list of (name, function, params, return type, kwargs)."""

from __future__ import annotations

import importlib

import duckdb

# Modules that define UDFs. Each has a module-level `UDFS` list.
UDF_MODULES: list[str] = [
    "python_udfs.tdigest_udfs",
    "python_udfs.stats_udfs",
]


def register_all(con: duckdb.DuckDBPyConnection) -> None:
    existing = {
        row[0]
        for row in con.execute(
            "select function_name from duckdb_functions() where function_type = 'scalar'"
        ).fetchall()
    }
    for module_name in UDF_MODULES:
        module = importlib.import_module(module_name)
        for name, function, params, returns, kwargs in module.UDFS:
            if name in existing:
                continue
            con.create_function(name, function, params, returns, **kwargs)
