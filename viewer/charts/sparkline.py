"""The small trend line of a KPI card."""

from __future__ import annotations

import holoviews as hv
import polars as pl

from viewer.charts.common import ACCENT, pandas


def sparkline(frame: pl.DataFrame, x: str, y: str) -> hv.Curve:
    """`y` over `x` without axes or tools: a shape to glance at, its numbers are on the card."""
    data = frame.select(x, y).drop_nulls().sort(x)
    return hv.Curve(pandas(data), x, y).opts(
        width=220, height=50, xaxis=None, yaxis=None, toolbar=None, color=ACCENT, line_width=2,
        default_tools=[], show_frame=False)
