"""The compiled config's SQL for Spark: the config compiler writes DuckDB SQL (filters, derived
columns, default values), which Spark runs after sqlglot transpiles it. Date parsing gets Spark's
own patterns: DuckDB's strptime specifiers (milliseconds `%g`, zone names `%Z`) have no sqlglot
mapping to Java's DateTimeFormatter."""

from __future__ import annotations

import copy
import re
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark

# DuckDB strptime specifier -> Java DateTimeFormatter pattern (valuemarts.config.chrono_format
# writes only these).
_JAVA_PATTERNS: dict[str, str] = {
    "%Y": "yyyy", "%y": "yy", "%m": "MM", "%b": "MMM", "%B": "MMMM", "%d": "dd", "%j": "DDD",
    "%a": "EEE", "%A": "EEEE", "%H": "HH", "%I": "hh", "%p": "a", "%M": "mm", "%S": "ss",
    "%g": "SSS", "%f": "SSSSSS", "%n": "SSSSSSSSS", "%Z": "z",
}
_SPECIFIER = re.compile(r"%%|%[A-Za-z]|[A-Za-z]+|'|[^%A-Za-z']+")

# Keys of the compiled config whose values are SQL expressions (lists and dicts of them too).
_SQL_KEYS = frozenset({"filter_sql", "sql", "default_values"})


def java_pattern(duckdb_format: str) -> str:
    """The Java DateTimeFormatter pattern of a DuckDB strptime format; letters that are text
    (the `T` of `20241010T145658`) are quoted.

    Examples
    --------
    >>> java_pattern("%Y%m%dT%H%M%S.%g %Z")
    "yyyyMMdd'T'HHmmss.SSS z"
    """
    out: list[str] = []
    for token in _SPECIFIER.findall(duckdb_format):
        if token in _JAVA_PATTERNS:
            out.append(_JAVA_PATTERNS[token])
        elif token == "%%":
            out.append("%")
        elif token == "'":
            out.append("''")
        elif token[0].isalpha():
            out.append(f"'{token}'")
        else:
            out.append(token)
    return "".join(out)


def _to_timestamp(generator: Spark.Generator, expression: exp.Expression) -> str:
    """DuckDB's (try_)strptime as Spark's to_timestamp, which gives NULL where it can't parse
    (ANSI mode is off in valuemarts' sessions); the loader has rejected such values already."""
    value, fmt = expression.this, expression.args.get("format")
    if not isinstance(fmt, exp.Literal):
        raise ValueError(f"strptime with a computed format has no Spark translation: {expression.sql('duckdb')}")
    return f"TO_TIMESTAMP({generator.sql(value)}, {generator.sql(exp.Literal.string(java_pattern(fmt.this)))})"


class _ValuemartsSpark(Spark):
    class Generator(Spark.Generator):
        TRANSFORMS = {**Spark.Generator.TRANSFORMS, exp.StrToTime: _to_timestamp}


def spark_sql(duckdb_sql: str) -> str:
    """One compiled SQL expression in Spark's dialect.

    Examples
    --------
    >>> spark_sql('CASE WHEN "Channel" <> \\'\\' THEN "Channel" END')
    "CASE WHEN `Channel` <> '' THEN `Channel` END"
    >>> print(spark_sql("CAST(STRPTIME(\\"PurchasedDate\\", '%Y%m%dT%H%M%S.%g %Z') AT TIME ZONE 'UTC' AS DATE)"))
    CAST(FROM_UTC_TIMESTAMP(TO_TIMESTAMP(`PurchasedDate`, 'yyyyMMdd\\'T\\'HHmmss.SSS z'), 'UTC') AS DATE)
    """
    parsed = sqlglot.parse_one(duckdb_sql, read="duckdb")
    for call in parsed.find_all(exp.Anonymous):
        if call.name.upper() == "TRY_STRPTIME":
            call.replace(exp.StrToTime(this=call.expressions[0], format=call.expressions[1]))
    return parsed.sql(dialect=_ValuemartsSpark)


def spark_vars(dbt_vars: dict[str, Any]) -> dict[str, Any]:
    """The compiled config (`CompiledConfig.dbt_vars`) with every SQL expression in Spark's
    dialect; names, types and settings as they are (the macros map types, `vm_type`).

    Examples
    --------
    >>> spark_vars({"ih": {"filter_sql": 'NOT "Channel" IS NULL'}})
    {'ih': {'filter_sql': 'NOT `Channel` IS NULL'}}
    """
    return _converted(copy.deepcopy(dbt_vars), in_sql=False)


def _converted(value: Any, in_sql: bool) -> Any:
    if isinstance(value, dict):
        return {key: _converted(item, in_sql or key in _SQL_KEYS) for key, item in value.items()}
    if isinstance(value, list):
        return [_converted(item, in_sql) for item in value]
    if in_sql and isinstance(value, str):
        return spark_sql(value)
    return value


def spark_select_list(duckdb_columns: str) -> list[str]:
    """A DuckDB select list (what a Python model passes to DuckDB's `relation.project`), one Spark
    expression per item.

    Examples
    --------
    >>> spark_select_list('metric_name, "T", frequency + 1 as n')
    ['metric_name', '`T`', 'frequency + 1 AS n']
    """
    return [item.sql(dialect=_ValuemartsSpark) for item in sqlglot.parse_one(f"select {duckdb_columns}", read="duckdb").expressions]
