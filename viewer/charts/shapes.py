"""Charts HoloViews has no element for, drawn from rectangles, wedges and segments: the gauge
(as bullet bars with their reference), polar bars, the treemap, the funnel and the box plot of
digest quartiles."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import holoviews as hv
import polars as pl

from viewer.charts.common import BELOW, FAR_BELOW, ON_TARGET, facets, field, flag, labels, pandas

_TREEMAP_SIDE = 100.0
_WEDGE_STEPS = 16


def gauge_chart(frame: pl.DataFrame, spec: Mapping[str, Any], by: Sequence[str]) -> hv.Element:
    """One bar per group of `by` for the `value` score, with its `reference` as a black mark.

    A gauge's group is found in `reference` by its values joined with `_` (the reference
    system's key); a bar is orange under its reference and red under three quarters of it.
    """
    value = field(spec, "value")
    if value is None:
        raise ValueError("a gauge needs `value`")
    references = {str(k): float(v) for k, v in (spec.get("reference") or {}).items()}
    rows = labels(frame, list(by), "group").with_columns(
        pl.concat_str([pl.col(c).cast(pl.String) for c in by], separator="_").alias("_key") if by else pl.lit(""))
    rows = rows.with_columns(pl.col("_key").replace_strict(references, default=None, return_dtype=pl.Float64)
                             .alias("reference"))
    rows = rows.with_columns(
        pl.when(pl.col(value) < 0.75 * pl.col("reference")).then(pl.lit("far below reference"))
        .when(pl.col(value) < pl.col("reference")).then(pl.lit("below reference"))
        .otherwise(pl.lit("on target")).alias("status"))
    df = pandas(rows.sort("group"))
    top = max([v for v in (rows[value].max(), rows["reference"].max()) if v is not None] or [1.0]) * 1.1
    bars = hv.Bars(df, "group", [value, "status", "reference"]).opts(
        color="status", cmap={"on target": ON_TARGET, "below reference": BELOW, "far below reference": FAR_BELOW},
        xrotation=30, ylim=(0, top), tools=["hover"], show_legend=True)
    marks = hv.Scatter(df.dropna(subset=["reference"]), "group", "reference").opts(
        marker="dash", size=40, color="black", angle=0)
    return (bars * marks).opts(width=900, height=380)


def bar_polar_chart(frame: pl.DataFrame, spec: Mapping[str, Any]) -> hv.Element:
    """Polar bars: one wedge per `theta` value, its radius the `r` score, coloured by `color`."""
    r, theta, color = field(spec, "r"), field(spec, "theta"), field(spec, "color")
    if r is None or theta is None:
        raise ValueError("a polar bar chart needs r and theta")
    rows = frame.drop_nulls(r).sort([c for c in (color, theta) if c])
    count = max(rows.height, 1)
    top = rows[r].max() or 1.0
    by_color: dict[str, list[dict[str, Any]]] = {}
    rim = []
    for i, row in enumerate(rows.iter_rows(named=True)):
        start, end = 2 * math.pi * i / count, 2 * math.pi * (i + 0.9) / count
        angles = [start + (end - start) * k / _WEDGE_STEPS for k in range(_WEDGE_STEPS + 1)]
        radius = row[r]
        wedge = {"x": [0.0] + [radius * math.cos(a) for a in angles],
                 "y": [0.0] + [radius * math.sin(a) for a in angles], theta: str(row[theta]), r: radius}
        by_color.setdefault(str(row[color]) if color else r, []).append(wedge)
        middle = (start + end) / 2
        rim.append((1.12 * top * math.cos(middle), 1.12 * top * math.sin(middle), str(row[theta])))
    palette = hv.Cycle.default_cycles["default_colors"]
    wedges = [hv.Polygons(items, vdims=[theta, r], label=name).opts(
        tools=["hover"], line_color="white", color=palette[i % len(palette)])
        for i, (name, items) in enumerate(by_color.items())]
    names = hv.Labels(rim, ["x", "y"], "text").opts(text_font_size="8pt", text_color="#444")
    return hv.Overlay([*wedges, names]).opts(
        width=620, height=620, xaxis=None, yaxis=None, show_grid=False, data_aspect=1,
        show_legend=flag(spec, "showlegend", True), legend_position="right")


def treemap_layout(frame: pl.DataFrame, levels: Sequence[str], size: str) -> pl.DataFrame:
    """Rectangles (x0, y0, x1, y1) for each row of `frame`, nested by `levels`, areas in
    proportion to `size` (squarified: Bruls, Huizing and van Wijk, 2000). Rows of size 0 or
    less take no room and are left out."""
    rows = frame.filter(pl.col(size) > 0)
    out: list[pl.DataFrame] = []
    _nest(rows, list(levels), size, (0.0, 0.0, _TREEMAP_SIDE, _TREEMAP_SIDE), out)
    if not out:
        return rows.with_columns(*(pl.lit(0.0).alias(c) for c in ("x0", "y0", "x1", "y1"))).head(0)
    return pl.concat(out)


def _nest(rows: pl.DataFrame, levels: list[str], size: str, box: tuple[float, float, float, float],
          out: list[pl.DataFrame]) -> None:
    if not levels:
        x, y, w, h = box
        out.append(rows.with_columns(x0=pl.lit(x), y0=pl.lit(y), x1=pl.lit(x + w), y1=pl.lit(y + h)))
        return
    level, rest = levels[0], levels[1:]
    totals = rows.group_by(level).agg(pl.col(size).sum()).sort(size, descending=True)
    boxes = squarify(totals[size].to_list(), *box)
    for value, inner in zip(totals[level].to_list(), boxes):
        part = rows.filter(pl.col(level).is_null() if value is None else pl.col(level) == value)
        if rest:
            _nest(part, rest, size, inner, out)
        else:
            _nest(part.group_by(level).agg(pl.all().first()) if part.height > 1 else part, [], size, inner, out)


def squarify(sizes: Sequence[float], x: float, y: float, w: float, h: float) -> list[tuple[float, float, float, float]]:
    """Boxes (x, y, width, height) filling the box given, one per size (sizes sorted largest
    first), each with area in proportion to its size and as close to square as the order allows."""
    total = sum(sizes)
    if total <= 0 or w <= 0 or h <= 0:
        return [(x, y, 0.0, 0.0) for _ in sizes]
    areas = [s * w * h / total for s in sizes]
    boxes: list[tuple[float, float, float, float]] = []
    start = 0
    while start < len(areas):
        side = min(w, h)
        end = start + 1
        while end < len(areas) and _worst(areas[start:end + 1], side) <= _worst(areas[start:end], side):
            end += 1
        row = areas[start:end]
        thickness = sum(row) / side
        offset = 0.0
        for area in row:
            length = area / thickness
            boxes.append((x, y + offset, thickness, length) if w >= h else (x + offset, y, length, thickness))
            offset += length
        if w >= h:
            x, w = x + thickness, w - thickness
        else:
            y, h = y + thickness, h - thickness
        start = end
    return boxes


def _worst(row: Sequence[float], side: float) -> float:
    total = sum(row)
    return max(max(side * side * a / (total * total), total * total / (side * side * a)) for a in row)


def treemap_chart(frame: pl.DataFrame, levels: Sequence[str], size: str, color: str) -> hv.Element:
    """A treemap of `frame`: nested by `levels`, area by `size`, coloured by `color`."""
    laid = labels(treemap_layout(frame, levels, size), list(levels), "path")
    laid = laid.with_columns(pl.col(levels[-1]).cast(pl.String).alias("name"),
                             ((pl.col("x0") + pl.col("x1")) / 2).alias("cx"),
                             ((pl.col("y0") + pl.col("y1")) / 2).alias("cy"),
                             ((pl.col("x1") - pl.col("x0")) * (pl.col("y1") - pl.col("y0"))).alias("_area"))
    df = pandas(laid)
    boxes = hv.Rectangles(df, ["x0", "y0", "x1", "y1"], [color, "path", size]).opts(
        color=color, cmap="viridis", colorbar=True, line_color="white", line_width=1, tools=["hover"])
    big = df[df["_area"] > _TREEMAP_SIDE ** 2 * 0.012]
    names = hv.Labels(big, ["cx", "cy"], "name").opts(text_font_size="8pt", text_color="white")
    return (boxes * names).opts(width=900, height=520, xaxis=None, yaxis=None, show_grid=False)


def funnel_chart(frame: pl.DataFrame, spec: Mapping[str, Any], count: str) -> hv.Element:
    """Counts per stage in the configured order (`stages`; a stage with no rows counts 0), one
    bar per `color` value, faceted."""
    stage, color = field(spec, "x"), field(spec, "color")
    stages = [str(s) for s in spec.get("stages") or []] or frame[stage].drop_nulls().unique().sort().to_list()
    keys = [k for k in (field(spec, "facet_row"), field(spec, "facet_column"), color) if k]
    grid = pl.DataFrame({stage: stages, "_order": list(range(len(stages)))})
    if keys:
        grid = frame.select(keys).unique().join(grid, how="cross")
    counts = frame.select(*keys, pl.col(stage).cast(pl.String), count)
    full = grid.join(counts, on=[*keys, stage], how="left").with_columns(pl.col(count).fill_null(0))

    def draw(part: pl.DataFrame) -> hv.Element:
        df = pandas(part.sort("_order"))
        kdims = [stage, color] if color else [stage]
        return hv.Bars(df, kdims, count).opts(tools=["hover"], multi_level=False, xrotation=0)

    return facets(full, spec, draw)


def box_chart(frame: pl.DataFrame, spec: Mapping[str, Any], column: str) -> hv.Element:
    """Box plots from digest quartiles: box p25 to p75 with the median, whiskers at
    max(p25 - 1.5 IQR, Min) and min(p75 + 1.5 IQR, Max) (the reference's rule), one box per `x`
    value and `color`, faceted."""
    x, color = field(spec, "x"), field(spec, "color")
    if x is None:
        raise ValueError("a box plot needs x")
    q = {s: f"{column}_{s}" for s in ("p25", "Median", "p75", "Min", "Max")}
    iqr = pl.col(q["p75"]) - pl.col(q["p25"])
    rows = frame.drop_nulls([q["p25"], q["p75"], q["Median"]]).with_columns(
        pl.max_horizontal(pl.col(q["p25"]) - 1.5 * iqr, pl.col(q["Min"])).alias("lower"),
        pl.min_horizontal(pl.col(q["p75"]) + 1.5 * iqr, pl.col(q["Max"])).alias("upper"))
    xs = rows[x].unique().sort().to_list()
    colors = rows[color].unique().sort().to_list() if color else [None]
    width = 0.8 / len(colors)
    position = {v: i for i, v in enumerate(xs)}
    shift = {v: -0.4 + width * (j + 0.5) for j, v in enumerate(colors)}
    step = max(1, len(xs) // 15)
    ticks = [(i, str(v)) for i, v in enumerate(xs) if i % step == 0]

    def draw(part: pl.DataFrame) -> hv.Element:
        placed = part.with_columns(
            (pl.col(x).replace_strict(position, return_dtype=pl.Float64)
             + (pl.col(color).replace_strict(shift, return_dtype=pl.Float64) if color else pl.lit(0.0))).alias("_at"),
            (pl.col(color).cast(pl.String) if color else pl.lit(column)).alias("_group"))
        df = pandas(placed.with_columns((pl.col("_at") - width * 0.4).alias("_left"),
                                        (pl.col("_at") + width * 0.4).alias("_right")))
        whiskers = hv.Segments(df, ["_at", "lower", "_at", "upper"]).opts(color="gray")
        boxes = hv.Rectangles(df, ["_left", q["p25"], "_right", q["p75"]], ["_group", x]).opts(
            color="_group", cmap="Category10", line_color="white", tools=["hover"], show_legend=True)
        medians = hv.Segments(df, ["_left", q["Median"], "_right", q["Median"]]).opts(color="black")
        return (whiskers * boxes * medians).opts(xticks=ticks, xrotation=45, xlabel=x, ylabel=column)

    return facets(rows, spec, draw)
