"""SQL a user typed (`valuemarts sql`, `Warehouse.sql`, the viewer's console): one read-only query.

Two independent locks, so that a hole in one is caught by the other:
1. the statement check (`check_read_only`): exactly one statement, a SELECT or an EXPLAIN of one
   (EXPLAIN ANALYZE runs what it explains, so an EXPLAIN is judged by its inner statement), and
   no call to the few functions that change DuckDB's state from inside a SELECT;
2. the connection (`duck.connect_for_user_sql`): the warehouse attached read-only, no file access
   outside it, settings locked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl

from valuemarts.duck import connect_for_user_sql
from valuemarts.errors import ValueMartsError

# EXPLAIN, then ANALYZE and/or an option list such as (ANALYZE, FORMAT json). The option list must
# start with an option name, so `EXPLAIN (SELECT ...)` keeps its subquery. Anything this does not
# strip stays in the inner text, which then fails to parse or is refused: misreading fails closed.
_EXPLAIN_PREFIX = re.compile(
    r"\s*EXPLAIN\b\s*(?:ANALY[SZ]E\b\s*)?(?:\(\s*(?:ANALY[SZ]E|FORMAT)\b(?:[\w\s,]|'\w*')*\)\s*)?",
    re.IGNORECASE,
)

# Table functions a SELECT may call that the locked connection does not stop: they switch logging
# or profiling (`lock_configuration` does not cover them; file log storage even aborts the process
# when its write is refused) or checkpoint, or they run SQL from a string this check cannot see.
_STATEFUL_FUNCTIONS = frozenset({
    "enable_logging", "disable_logging", "truncate_duckdb_logs",
    "enable_profiling", "disable_profiling",
    "checkpoint", "force_checkpoint",
    "query", "json_execute_serialized_sql",
})


def query_read_only(warehouse: Path, query: str) -> pl.DataFrame:
    """The result of one read-only `query` over `warehouse`.

    Parameters
    ----------
    warehouse : Path
        An existing warehouse file; it is attached read-only and nothing else can be read.
    query : str
        One SELECT (or EXPLAIN of one).

    Returns
    -------
    polars.DataFrame
        The result, with DuckDB's column names and types.

    Raises
    ------
    ValueMartsError
        "query: ..." with the reason, when the query is refused, fails, or returns a type
        polars cannot hold (cast that column to VARCHAR).

    Examples
    --------
    >>> query_read_only(Path("data/warehouse.duckdb"), "select count(*) n from marts.mart_engagement")  # doctest: +SKIP
    shape: (1, 1)
    """
    if not warehouse.exists():
        raise ValueMartsError(f"{warehouse}: no warehouse yet; run `valuemarts build` first")
    con = connect_for_user_sql(warehouse)
    try:
        statement = check_read_only(con, query)
        try:
            return con.execute(statement).pl()
        except duckdb.Error as exc:
            raise _query_error(exc) from exc
        except pl.exceptions.PolarsError as exc:
            raise ValueMartsError(f"query: a result column has a type polars cannot hold ({str(exc).splitlines()[0]}); "
                                  "cast it to VARCHAR") from exc
    finally:
        con.close()


def check_read_only(con: duckdb.DuckDBPyConnection, query: str) -> duckdb.Statement:
    """The one statement of `query` if it only reads, else ValueMartsError.

    Parse on the locked connection: some statements (IMPORT DATABASE) already read files while parsing.

    Examples
    --------
    >>> check_read_only(connect_for_user_sql(Path("data/warehouse.duckdb")), "drop table marts.x")  # doctest: +SKIP
    Traceback (most recent call last):
    valuemarts.errors.ValueMartsError: query: only SELECT is allowed here; refused a DROP statement
    """
    statement = _one_statement(con, query)
    if statement.type == duckdb.StatementType.EXPLAIN:
        check_read_only(con, _explained(statement.query))
    elif statement.type == duckdb.StatementType.SELECT:
        _refuse_stateful_functions(con, statement.query)
    else:
        raise ValueMartsError(f"query: only SELECT is allowed here; refused a {statement.type.name} statement")
    return statement


def _one_statement(con: duckdb.DuckDBPyConnection, query: str) -> duckdb.Statement:
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise _query_error(exc) from exc
    if len(statements) != 1:
        raise ValueMartsError(f"query: expected one statement, got {len(statements)}")
    return statements[0]


def _explained(explain: str) -> str:
    """The statement inside `EXPLAIN [ANALYZE] [(options)] <statement>`."""
    match = _EXPLAIN_PREFIX.match(explain)
    if match is None:
        raise ValueMartsError("query: write EXPLAIN as `EXPLAIN [ANALYZE] SELECT ...` (no comment before it)")
    return explain[match.end():]


def _refuse_stateful_functions(con: duckdb.DuckDBPyConnection, select: str) -> None:
    """Look at the functions the SELECT calls in its parsed form, so quoting or a schema prefix cannot hide one."""
    tree = json.loads(con.execute("select json_serialize_sql(?)", [select]).fetchone()[0])
    if tree.get("error"):
        raise ValueMartsError(f"query: cannot check this statement ({tree.get('error_message')}); write it as a SELECT")
    called = set(_function_names(tree)) & _STATEFUL_FUNCTIONS
    if called:
        raise ValueMartsError(f"query: {', '.join(sorted(called))} is not allowed here")


def _function_names(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "function_name" and isinstance(value, str):
                yield value.lower()
            else:
                yield from _function_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _function_names(item)


def _query_error(exc: duckdb.Error) -> ValueMartsError:
    return ValueMartsError(f"query: {str(exc).splitlines()[0]}")
