"""DuckDB connections with our extensions and UDFs, the same for every reader."""

from __future__ import annotations

from pathlib import Path

import duckdb

import python_udfs


def excel_extension_path() -> Path | None:
    """The excel extension shipped by the pinned PyPI package (INSTALL from the internet fails here)."""
    try:
        import duckdb_extension_excel
    except ImportError:
        return None
    root = Path(duckdb_extension_excel.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    path = root / "excel.duckdb_extension"
    return path if path.exists() else None


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    loaded = {
        name
        for (name,) in con.execute("select extension_name from duckdb_extensions() where loaded").fetchall()
    }
    if "excel" not in loaded:
        path = excel_extension_path()
        if path is not None:
            con.execute(f"LOAD '{path}'")


def connect(path: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open `path` (in-memory when None) with the excel extension and all valuemarts UDFs."""
    con = duckdb.connect(str(path) if path is not None else ":memory:", read_only=read_only)
    load_extensions(con)
    python_udfs.register(con)
    return con
