"""Print query results as csv, json or an aligned table (the `--format` of read commands)."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import sys
from typing import TYPE_CHECKING, Any, Sequence, TextIO

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("csv", "json", "table")
FORMAT_HELP = ("csv or json (a list of objects), full precision, or table (aligned, floats to 4 significant digits); "
               "default %(default)s")
SIGNIFICANT_DIGITS = 4


def write_frame(frame: pl.DataFrame, fmt: str, out: TextIO | None = None) -> None:
    """Print a polars frame (what the library API returns) in format `fmt`; see `write_rows`.

    Examples
    --------
    >>> import polars as pl
    >>> write_frame(pl.DataFrame({"Channel": ["Web"], "CTR": [0.0123456789]}), "table")
    Channel  CTR
    -------  -------
    Web      0.01235
    """
    write_rows(frame.columns, frame.rows(), fmt, out)


def write_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out: TextIO | None = None) -> None:
    """Print rows as csv, json or an aligned table.

    csv and json keep floats at full precision, for scripts; the table rounds them to four
    significant digits, for reading. NULL and NaN are empty cells in csv and the table, null in
    json.

    Examples
    --------
    >>> write_rows(["metric", "p"], [("engagement", 1.23456789e-7)], "csv")
    metric,p
    engagement,1.23456789e-07
    """
    out = out or sys.stdout
    if fmt == "json":
        json.dump([{c: _plain(v) for c, v in zip(columns, row)} for row in rows], out, default=str)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else _plain(v) for v in row] for row in rows])
    else:
        cells = [[str(c) for c in columns]] + [[_readable(_plain(v)) for v in row] for row in rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
        for i, row in enumerate(cells):
            out.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n")
            if i == 0:
                out.write("  ".join("-" * w for w in widths) + "\n")


def _plain(value: Any) -> Any:
    """A value json and csv print as the database meant it: no NaN, dates in ISO form, and whole
    decimals (DuckDB's HUGEINT sums reach polars as Decimal(38, 0)) as integers."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal) and value.is_finite() and value.as_tuple().exponent == 0:
        return int(value)
    return value


def _readable(value: Any) -> str:
    """A table cell: floats to four significant digits, without an exponent from 0.0001 up (larger
    values as whole numbers); everything else as it is."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.{SIGNIFICANT_DIGITS}g}"
        return f"{value:.0f}" if "e+" in text else text
    return str(value)
