"""The small trend line of a KPI card, as inline SVG: a card shows six of them, and a full
plotting canvas each would cost the dashboard's first paint most of its time."""

from __future__ import annotations

import polars as pl

from viewer.charts.common import ACCENT

WIDTH, HEIGHT, PAD = 220, 44, 3


def sparkline(frame: pl.DataFrame, x: str, y: str) -> str:
    """`y` over `x` (sorted by x, undefined values left out) as an SVG polyline, scaled to the
    box; "" when fewer than two points remain. A shape to glance at: the numbers are on the card.

    Examples
    --------
    >>> sparkline(pl.DataFrame({"d": [1, 2, 3], "v": [0.0, 1.0, 0.5]}), "d", "v").count("polyline")
    1
    """
    values = frame.select(x, y).drop_nulls().filter(pl.col(y).is_finite()).sort(x)[y].to_list()
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD) / (len(values) - 1)
    points = " ".join(f"{PAD + i * step:.1f},{HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD):.1f}"
                      for i, v in enumerate(values))
    return (f"<svg class='vm-spark' width='{WIDTH}' height='{HEIGHT}' viewBox='0 0 {WIDTH} {HEIGHT}'>"
            f"<polyline fill='none' stroke='{ACCENT}' stroke-width='1.6' points='{points}'/></svg>")
