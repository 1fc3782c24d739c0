"""Pieces every page uses: the paginated table with its CSV download, KPI cards, messages."""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable
from typing import Any

import panel as pn
import polars as pl

from valuemarts.errors import ValueMartsError
from valuemarts.tables import write_frame

# Rows a table hands to the browser; pages of PAGE_SIZE are sent one at a time (remote
# pagination). The CSV download always has every row.
ROW_CAP = 10_000
PAGE_SIZE = 25
_NOTE_BASE = "padding: 10px 14px; border-radius: 6px; white-space: pre-wrap; border: 1px solid; "
_NOTE_STYLES = {"info": _NOTE_BASE + "background: #e8f1fb; border-color: #b6d4f2; color: #123e66;",
                "success": _NOTE_BASE + "background: #e9f6ec; border-color: #b7e0c1; color: #1e4d2b;",
                "warning": _NOTE_BASE + "background: #fff6e0; border-color: #f3d48b; color: #5c4300;",
                "danger": _NOTE_BASE + "background: #fdecea; border-color: #f5c2c0; color: #611a15;"}


def csv_text(frame: pl.DataFrame) -> str:
    """The frame as `valuemarts report --format csv` prints it (full precision, empty = undefined)."""
    out = io.StringIO()
    write_frame(frame, "csv", out)
    return out.getvalue()


def data_table(frame: pl.DataFrame, name: str) -> pn.Column:
    """A table of `frame`, paged on the server and capped at ROW_CAP rows, with a CSV download
    of every row.

    Parameters
    ----------
    frame : polars.DataFrame
        The rows to show.
    name : str
        The download's file name, without `.csv`.
    """
    shown = displayable(frame.head(ROW_CAP))
    note = f"{frame.height:,} rows" + (f"; the first {ROW_CAP:,} shown, the CSV has all" if frame.height > ROW_CAP else "")
    table = pn.widgets.Tabulator(shown.to_pandas(), pagination="remote", page_size=PAGE_SIZE, disabled=True,
                                 show_index=False, sizing_mode="stretch_width")
    download = pn.widgets.FileDownload(callback=lambda: io.StringIO(csv_text(frame)),
                                       filename=f"{name}.csv", label="Download CSV", color="primary",
                                       width=160, css_classes=["vm-csv"])
    return pn.Column(pn.Row(download, pn.pane.Markdown(note, margin=(12, 10))), table, sizing_mode="stretch_width")


def displayable(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with types the browser can show: DuckDB's HUGEINT sums arrive as decimals, which
    the table can't send; whole decimals become integers, others floats (the CSV keeps them as they are)."""
    casts = [pl.col(name).cast(pl.Int64 if dtype.scale == 0 else pl.Float64)
             for name, dtype in frame.schema.items() if isinstance(dtype, pl.Decimal)]
    return frame.with_columns(casts) if casts else frame


def number(value: Any, kind: str = "number") -> str:
    """A KPI value for reading: `percent`, `money`, `p` (p-value) or plain number; `n/a` when undefined."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if kind == "percent":
        return f"{100 * value:.2f}%"
    if kind == "money":
        return f"{value:,.0f}"
    if kind == "p":
        return f"{value:.3g}"
    if kind == "count":
        return f"{value:,.0f}"
    return f"{value:.4g}"


def kpi_card(key: str, title: str, value: Any, kind: str, lines: list[str], trend_svg: str = "") -> pn.pane.HTML:
    """A KPI card; its value is also in `data-value` at full precision, for tests and scripts.

    `trend_svg` is trusted markup made by `viewer.charts.sparkline`; everything else is escaped.
    """
    raw = "" if value is None else repr(value)
    details = "".join(f"<div class='vm-kpi-line'>{html.escape(line)}</div>" for line in lines)
    return pn.pane.HTML(
        f"<div class='vm-kpi' data-kpi='{html.escape(key)}' data-value='{html.escape(raw)}'>"
        f"<div class='vm-kpi-title'>{html.escape(title)}</div>"
        f"<div class='vm-kpi-value'>{html.escape(number(value, kind))}</div>{details}{trend_svg}</div>",
        css_classes=["vm-card"], width=250, margin=6)


def error_box(exc: Exception) -> pn.pane.HTML:
    """A message users act on: what was refused or failed, and why."""
    return note("\n".join(str(e) for e in getattr(exc, "errors", [])) or str(exc), "danger")


def note(text: str, kind: str = "info") -> pn.pane.HTML:
    """A message box: info, success, warning or danger (an error); its class is `vm-<kind>`.

    Shown as plain text, never Markdown or HTML: messages quote file names, column names and
    values from the data, which may hold markup (`**/*.zip` stays as it is, `<img ...>` is text).
    """
    return pn.pane.HTML(f"<div style='{_NOTE_STYLES[kind]}'>{html.escape(text)}</div>", css_classes=[f"vm-{kind}"],
                        sizing_mode="stretch_width")


def options(values: list[Any]) -> dict[str, Any]:
    """Choices for a select widget from data values; labels escaped, since the widget's list
    renders its labels as HTML."""
    return {html.escape(str(v)): v for v in values}


def guarded(render: Callable[[], Any]) -> Any:
    """The page part `render` draws, or the message of the error it raised for bad input or a
    warehouse that isn't there yet; other errors are bugs and propagate."""
    try:
        return render()
    except (ValueMartsError, ValueError) as exc:
        return error_box(exc)
