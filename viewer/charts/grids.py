"""Heatmaps, scatter plots (with an animation frame) and digest histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import holoviews as hv
import polars as pl

from viewer.charts.common import facets, field, flag, pandas, scaled


def heatmap_chart(frame: pl.DataFrame, spec: Mapping[str, Any], value: str) -> hv.HeatMap:
    """`value` for every (x, y) pair; a pair without rows shows 0, as in the reference."""
    x, y = field(spec, "x"), field(spec, "y")
    if x is None or y is None:
        raise ValueError("a heatmap needs x and y")
    cells = frame.select(pl.col(x).cast(pl.String), pl.col(y).cast(pl.String), value)
    grid = cells.select(x).unique().join(cells.select(y).unique(), how="cross")
    full = grid.join(cells, on=[x, y], how="left").with_columns(pl.col(value).fill_null(0)).sort([x, y])
    return hv.HeatMap(pandas(full), [x, y], value).opts(
        colorbar=True, cmap="Blues", tools=["hover"], xrotation=45, width=900, height=420)


def scatter_chart(frame: pl.DataFrame, spec: Mapping[str, Any]) -> hv.Element:
    """`y` against `x`, marker area by `size`, colour by `color`; with `animation_frame`, one
    frame per value behind a player (all frames on the same axes)."""
    x, y = field(spec, "x"), field(spec, "y")
    if x is None or y is None:
        raise ValueError("a scatter plot needs x and y")
    size, color, step = field(spec, "size"), field(spec, "color"), field(spec, "animation_frame")
    rows = frame.drop_nulls([x, y]).with_columns(
        scaled(frame.drop_nulls([x, y])[size]).alias("_size") if size else pl.lit(10.0).alias("_size"))
    vdims = [y, "_size"] + [c for c in (color, size) if c and c not in (x, y)]

    def points(part: pl.DataFrame) -> hv.Scatter:
        opts: dict[str, Any] = {"size": "_size", "tools": ["hover"], "logx": flag(spec, "log_x"),
                                "logy": flag(spec, "log_y"), "width": 900, "height": 420, "alpha": 0.8,
                                "show_legend": flag(spec, "showlegend", True)}
        if color:
            opts.update(color=color, cmap="Category10")
        return hv.Scatter(pandas(part), x, vdims).opts(**opts)

    if step is None:
        return points(rows)
    frames = {value: points(part) for (value,), part in rows.sort(step).group_by(step, maintain_order=True)}
    return hv.HoloMap(frames, kdims=[step])


def histogram_chart(frame: pl.DataFrame, spec: Mapping[str, Any], column: str) -> hv.Element:
    """Bins (lo, hi, mass) of a merged t-digest: the probability mass of each bin, faceted."""
    def draw(part: pl.DataFrame) -> hv.Histogram:
        bins = part.sort("lo")
        edges = bins["lo"].to_list() + bins["hi"].tail(1).to_list()
        return hv.Histogram((edges, bins["mass"].to_list()), kdims=[column], vdims=["probability"]).opts(
            tools=["hover"], alpha=0.8)

    return facets(frame, spec, draw)


def bars_by(frame: pl.DataFrame, x: str, ys: Sequence[str]) -> hv.Layout:
    """One bar chart per column of `ys` over the categories of `x`, side by side."""
    df = pandas(frame.sort(x))
    return hv.Layout([hv.Bars(df, x, y).opts(width=440, height=300, xrotation=30, tools=["hover"])
                      for y in ys]).cols(2)
