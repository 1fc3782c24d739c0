"""DuckDB connections with our extensions and UDFs, the same for every reader."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

import python_udfs

from valuemarts.sql_names import quote_ident, quote_string


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
    """Load the excel extension on `con` (read_xlsx, COPY ... (FORMAT xlsx)) unless it is loaded."""
    loaded = {
        name
        for (name,) in con.execute("select extension_name from duckdb_extensions() where loaded").fetchall()
    }
    if "excel" not in loaded:
        path = excel_extension_path()
        if path is not None:
            con.execute(f"LOAD '{path}'")


def connect(path: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open `path` (in-memory when None) with all valuemarts UDFs.

    Writable connections work under VALUEMARTS_MEMORY_LIMIT (as dbt does) and get the excel
    extension, for the loader and the demo writer that read and write export files. A read-only
    connection reads the warehouse and nothing else, so it skips the extension: loading it costs
    every report and listing tens of milliseconds.

    Examples
    --------
    >>> con = connect("data/warehouse.duckdb", read_only=True)  # doctest: +SKIP
    >>> con.execute("select count(*) from marts.mart_engagement").fetchone()  # doctest: +SKIP
    (240,)
    """
    con = duckdb.connect(str(path) if path is not None else ":memory:", read_only=read_only)
    if not read_only:
        # Loading a big history in one scan otherwise grows DuckDB's buffers up to 80% of RAM; the
        # same limit as dbt's (profiles.yml), past which the load spills.
        con.execute("set memory_limit = ?", [os.environ.get("VALUEMARTS_MEMORY_LIMIT", "512MB")])
        load_extensions(con)
    python_udfs.register(con)
    return con


def connect_for_user_sql(path: str | Path) -> duckdb.DuckDBPyConnection:
    """The warehouse for SQL a user typed: it reads the warehouse and nothing else, and writes nothing.

    A private in-memory instance ATTACHes the warehouse READ_ONLY rather than `duckdb.connect(path)`:
    the Python client shares one database instance per file within a process, so the global
    settings below would otherwise also lock every other connection on the warehouse (`connect()`
    itself then fails: `duckdb_extensions()` scans the extension directory). UDFs, the ATTACH and
    the spill directory are set up while files are still reachable (no excel extension: the query
    may not read files anyway); then `enable_external_access = false` limits file access to the
    warehouse (and its wal and spill files), which refuses COPY, ATTACH, INSTALL/LOAD,
    EXPORT/IMPORT, secrets and every file reader, and `lock_configuration` stops the query from
    SETting any of it back.
    """
    con = python_udfs.register(duckdb.connect())
    try:
        _use_read_only(con, Path(path).absolute())
        con.execute("SET python_enable_replacements = false")  # no scans of Python variables by name
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _use_read_only(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """ATTACH `path` read-only as the default database, under the name `duckdb.connect` would give it.

    Keeping DuckDB's own name matters because dbt's views may refer to their catalog by name.
    Large sorts and joins spill next to the warehouse, as they do on a plain connection.
    """
    con.execute(f"SET temp_directory = {quote_string(f'{path}.tmp')}")
    con.execute(f"ATTACH {quote_string(str(path))} (READ_ONLY)")
    # The one file-backed database of this private connection (DuckDB records the path it resolved,
    # which is another text when a folder on the way is a symlink).
    (name,) = con.execute("select database_name from duckdb_databases() where path is not null").fetchone()
    con.execute(f"USE {quote_ident(name)}")

