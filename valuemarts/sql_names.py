"""Identifiers in SQL that Python renders.

Column names come from export files and the config, so they are data: a name is always quoted
with the quote character inside doubled, never pasted in bare or between plain quotes, or a `"`
in it would end the identifier and run the rest as SQL. The dbt macro `vm_ident`
(macros/config.sql) is the same rule for the SQL dbt renders.
"""

from __future__ import annotations


def quote_ident(name: str) -> str:
    """`name` as a DuckDB identifier: `Chan"nel` -> `"Chan""nel"`."""
    return '"' + name.replace('"', '""') + '"'


def quote_string(text: str) -> str:
    """`text` as a DuckDB string literal: `O'Brien` -> `'O''Brien'` (paths and values are data too)."""
    return "'" + text.replace("'", "''") + "'"


def quote_spark_ident(name: str) -> str:
    """`name` as a Spark SQL identifier, as macros/config.sql's spark__vm_ident: `` a`b `` -> ``\\`a``b\\` ``."""
    return "`" + name.replace("`", "``") + "`"


def quote_spark_string(text: str) -> str:
    """`text` as a Spark SQL string literal, as spark__vm_string: Spark reads a backslash as an
    escape, so backslashes and quotes are escaped with one (`O'Brien` -> `'O\\'Brien'`)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
