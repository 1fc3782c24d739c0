"""Translate config `filter` and `columns` expressions into checked DuckDB SQL.

Configs of the CDH Value Dashboard hold Polars expression strings that the reference `eval`s. We
never evaluate them: Polars text is read as a Python syntax tree (`polars_ast`) and everything
else as one SQL expression (`sql_guard`); both end as a sqlglot tree that is checked against an
allow-list and rendered with quoted column names. Anything else is a ConfigError naming the key.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from valuemarts.config import polars_ast, sql_guard
from valuemarts.config.sql_guard import SqlShapeError, TranslationError
from valuemarts.errors import ConfigError

_MAX_LENGTH = 20_000  # keeps parsing cheap; real configs are far shorter
_MENTIONS_POLARS = re.compile(r"\bpl\s*\.")

T = TypeVar("T")


@dataclass(frozen=True)
class DerivedColumn:
    """A derived column: its name, DuckDB SQL expression and the input columns it reads."""

    name: str
    sql: str
    columns: frozenset[str]


@dataclass(frozen=True)
class FilterExpression:
    """A row filter as a DuckDB SQL predicate and the columns it reads."""

    sql: str
    columns: frozenset[str]


def translate_filter(text: str, key: str) -> FilterExpression | None:
    """The filter at `key` as SQL; None when it is empty."""
    if not isinstance(text, str):
        raise ConfigError(key, f"expected a string holding an expression, got {type(text).__name__}")
    text = text.strip()
    if not text:
        return None
    with _errors(key, text):
        node = _dispatch(text, polars_ast.to_filter, sql_guard.parse_expression)
        sql, columns = sql_guard.render(node)
    return FilterExpression(sql, columns)


def translate_columns(text: str | list[str], key: str) -> list[DerivedColumn]:
    """The derived columns at `key`, in order; [] when empty.

    Accepts a string holding a list of Polars expressions or `expr AS name` SQL items, or a TOML
    array of such expressions. The reference template splits one expression across array
    elements (`["[pl.col(..).str.strptime(pl.Datetime", "\\"%Y...\\").alias(..)]"]`); those
    fragments are joined with ", " as the reference's string formatting did.
    """
    if isinstance(text, list):
        if not all(isinstance(t, str) for t in text):
            raise ConfigError(key, "expected an array of strings holding expressions")
        items = [t.strip() for t in text if t.strip()]
        if all(_parses_as_python(t) for t in items):
            return _unique([c for t in items for c in _translate_columns_text(t, key)], key)
        text = ", ".join(items)
    if not isinstance(text, str):
        raise ConfigError(key, f"expected a string or an array of strings, got {type(text).__name__}")
    return _unique(_translate_columns_text(text.strip(), key), key)


def _translate_columns_text(text: str, key: str) -> list[DerivedColumn]:
    if not text:
        return []
    with _errors(key, text):
        items = _dispatch(text, polars_ast.to_columns, sql_guard.parse_select_list)
        return [DerivedColumn(name, *sql_guard.render(node)) for name, node in items]


def _unique(columns: list[DerivedColumn], key: str) -> list[DerivedColumn]:
    seen: set[str] = set()
    for c in columns:
        if c.name in seen:
            raise ConfigError(key, f"column {c.name!r} is derived more than once")
        seen.add(c.name)
    return columns


def _dispatch(text: str, polars: Callable[[ast.Expression], T], sql: Callable[[str], T]) -> T:
    """Polars when the text is Python referring to `pl`, otherwise SQL.

    Text that parses as Python but is rejected by the SQL allow-list (`open('x')`,
    `np.random.normal(3.5)`) is reported as Polars, which names the unsupported call.
    """
    if len(text) > _MAX_LENGTH:
        raise TranslationError(f"expression longer than {_MAX_LENGTH} characters")
    tree, syntax_error = _parse_python(text)
    if tree is not None and polars_ast.uses_polars(tree):
        return polars(tree)
    if tree is None and _MENTIONS_POLARS.search(text):
        raise syntax_error  # type: ignore[misc]
    try:
        return sql(text)
    except SqlShapeError:
        raise
    except TranslationError:
        if tree is None:
            raise
    return polars(tree)


def _parse_python(text: str) -> tuple[ast.Expression | None, TranslationError | None]:
    """Syntax tree only: ast.parse compiles to an AST and never runs code."""
    try:
        return ast.parse(text, mode="eval"), None
    except SyntaxError as e:
        where = f" at line {e.lineno}, column {e.offset}" if e.lineno else ""
        return None, TranslationError(f"invalid Polars expression{where}: {e.msg}")
    except (ValueError, RecursionError, MemoryError) as e:
        return None, TranslationError(f"invalid Polars expression: {e}")


def _parses_as_python(text: str) -> bool:
    return _parse_python(text)[0] is not None


@contextmanager
def _errors(key: str, text: str) -> Iterator[None]:
    """Turn TranslationError into ConfigError naming the key and the expression."""
    try:
        yield
    except TranslationError as e:
        raise ConfigError(key, f'{e} in "{_shorten(text)}"') from None
    except RecursionError:
        raise ConfigError(key, f'expression nested too deeply in "{_shorten(text)}"') from None


def _shorten(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."

