"""Print query results as csv, json or an aligned table (the `--format` of read commands)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import sys
from typing import Any, Sequence, TextIO

FORMATS = ("csv", "json", "table")


def _plain(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def write_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out: TextIO | None = None) -> None:
    """Empty cells for NULL in csv/table, null in json; floats at full precision."""
    out = out or sys.stdout
    if fmt == "json":
        json.dump([{c: _plain(v) for c, v in zip(columns, row)} for row in rows], out, default=str)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else _plain(v) for v in row] for row in rows])
    else:
        cells = [[str(c) for c in columns]] + [["" if v is None else str(_plain(v)) for v in row] for row in rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
        for i, row in enumerate(cells):
            out.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n")
            if i == 0:
                out.write("  ".join("-" * w for w in widths) + "\n")
