"""Type errors in config expressions and default values, found by DuckDB at compile time.

`pl.col('Propensity') > 'abc'` translates to valid SQL, yet dbt would fail on it with a Conversion
Error after every file is loaded. Rather than re-implement DuckDB's binding and casting rules, each
translated expression is run by DuckDB itself over a relation of one all-NULL row whose columns have
the types staging gives them: binding finds mismatched types, and scanning the row runs the casts
of constants. The SQL is what `sql_guard` allowed, and the connection is in-memory with file access
and extension downloads switched off besides, so nothing touches a file or the network.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType

import duckdb

from valuemarts.sql_names import quote_ident

_SEALED = {"enable_external_access": False, "autoinstall_known_extensions": False,
           "autoload_known_extensions": False}
_ERROR_KIND = re.compile(r"^[A-Za-z ]+ Error: ")
# The types staging gives known columns (schema.*_COLUMN_TYPES), in a user's words.
_TYPE_WORDS = {"DOUBLE": "a number", "BIGINT": "a whole number", "VARCHAR": "text", "TIMESTAMPTZ": "a timestamp"}


def describe_type(data_type: str | None) -> str:
    """`a number (DOUBLE)`: what a user should write for a value of `data_type`."""
    if data_type is None:
        return "a string, number or boolean"
    return f"{_TYPE_WORDS.get(data_type, 'a value')} ({data_type})"


@dataclass(frozen=True)
class Relation:
    """SQL of a one-row relation of typed NULLs, and its column names."""

    sql: str
    columns: frozenset[str]


def typed_relation(types: Mapping[str, str | None]) -> Relation:
    """One all-NULL row, a column per name; an unknown type (None) is an untyped NULL, which DuckDB
    casts to whatever an expression needs, so a column of unknown type never raises."""
    items = [f"cast(null as {t}) as {quote_ident(c)}" if t else f"null as {quote_ident(c)}" for c, t in types.items()]
    return Relation(f"select {', '.join(items) or 'null'}", frozenset(types))


def with_derived(relation: Relation, derived: list[tuple[str, str]]) -> Relation:
    """The relation after derived columns (see `derived_select_list`)."""
    if not derived:
        return relation
    return Relation(f"select {derived_select_list(derived, relation.columns)} from ({relation.sql}) as input",
                    relation.columns | {name for name, _ in derived})


def derived_select_list(derived: Sequence[tuple[str, str]], existing: Collection[str]) -> str:
    """`*` with derived columns applied as the `derived_column_ctes` macro applies them: side by
    side, each reading the input, a derived column of an existing name replacing it in place."""
    replaced = [f"({sql}) as {quote_ident(name)}" for name, sql in derived if name in existing]
    added = [f"({sql}) as {quote_ident(name)}" for name, sql in derived if name not in existing]
    return ", ".join(["*" + (f" replace ({', '.join(replaced)})" if replaced else "")] + added)


class TypeChecker:
    """An in-memory DuckDB connection that evaluates literals and expressions for one compile."""

    def __init__(self) -> None:
        self._con = duckdb.connect(config=_SEALED)

    def __enter__(self) -> TypeChecker:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._con.close()

    def literal_type(self, literal_sql: str) -> str | None:
        """DuckDB's type of a constant expression; None when it doesn't evaluate. The value is
        fetched: `typeof` alone is bound without running the cast inside it."""
        try:
            return self._con.execute(f"select typeof(v), v from (select {literal_sql} as v)").fetchone()[0]
        except duckdb.Error:
            return None

    def filter_problem(self, relation: Relation, sql: str, columns: frozenset[str]) -> str | None:
        """Why `sql` fails as a WHERE clause over the relation, in one line; None when it runs."""
        return self._problem(f"select count(*) from ({_widened(relation, columns).sql}) as t where ({sql})", sql)

    def expression_problem(self, relation: Relation, sql: str, columns: frozenset[str]) -> str | None:
        """Why `sql` fails as a select item over the relation, in one line; None when it runs."""
        return self._problem(f"select ({sql}) from ({_widened(relation, columns).sql}) as t", sql)

    def _problem(self, query: str, sql: str) -> str | None:
        try:
            self._con.execute(query).fetchall()
        except duckdb.Error as exc:
            lines = str(exc).strip().splitlines() or [type(exc).__name__]
            shown = sql if len(sql) <= 200 else sql[:197] + "..."
            return f"type error: {_ERROR_KIND.sub('', lines[0])} (in the SQL it translates to: {shown})"
        return None


def _widened(relation: Relation, columns: frozenset[str]) -> Relation:
    """The relation with untyped NULL columns for names it lacks: unknown columns are reported by
    the column checks, not again here as binder errors."""
    missing = sorted(columns - relation.columns)
    if not missing:
        return relation
    extra = ", ".join(f"null as {quote_ident(c)}" for c in missing)
    return Relation(f"select *, {extra} from ({relation.sql}) as known", relation.columns | set(missing))
