"""CLV report charts over the per-customer rows of `report("clv")`: histogram, exposure,
correlation, model predictions by segment, RFM density and the segment treemap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import holoviews as hv
import hvplot.pandas  # noqa: F401  (registers .hvplot on pandas frames)
import polars as pl

from viewer.charts.common import ACCENT, facets, field, pandas
from viewer.charts.grids import bars_by
from viewer.charts.shapes import treemap_chart

SEED = 42
EXPOSURE_CUSTOMERS = 100
DENSITY_POINTS = 25_000
CORR_POINTS = 5_000
# The reference calls the customer's age `tenure`; the CLV report names it T (as lifetimes does).
_ALIASES = {"tenure": "T"}
SUMMARY_COLUMNS = ("recency", "frequency", "monetary_value", "T", "lifetime_value")


def column(name: str) -> str:
    """The report column a CLV config key names."""
    return _ALIASES.get(name, name)


def clv_histogram(frame: pl.DataFrame, spec: Mapping[str, Any]) -> hv.Element:
    """Customers by `x` (frequency, recency, monetary_value or tenure), one histogram per `color`."""
    x = column(field(spec, "x") or "frequency")
    color = field(spec, "color")

    def draw(part: pl.DataFrame) -> hv.Element:
        return pandas(part.drop_nulls(x)).hvplot.hist(y=x, by=color, bins=40, alpha=0.6)

    return facets(frame, spec, draw)


def exposure_chart(frame: pl.DataFrame) -> hv.Element:
    """100 customers drawn at random (seed 42): a line over each one's observed life (0 to T)
    and a dot at the last purchase (recency), time since the first purchase."""
    rows = frame.drop_nulls(["T", "recency"])
    sample = rows.sample(min(EXPOSURE_CUSTOMERS, rows.height), seed=SEED).sort("T")
    sample = sample.with_row_index("customer")
    df = pandas(sample.with_columns(pl.col("customer").cast(pl.Float64), pl.lit(0.0).alias("start")))
    lines = hv.Segments(df, ["start", "customer", "T", "customer"]).opts(color="lightgray", line_width=2)
    last = hv.Scatter(df, "recency", "customer").opts(color=ACCENT, size=5)
    return (lines * last).opts(width=900, height=480, xlabel="time since first purchase", ylabel="customer",
                               yaxis=None)


def correlation(frame: pl.DataFrame, columns: Sequence[str] = SUMMARY_COLUMNS) -> pl.DataFrame:
    """Pearson correlation of each pair of `columns` (rows with a null in either left out)."""
    present = [c for c in columns if c in frame.columns]
    rows = []
    for a in present:
        for b in present:
            pair = frame.select(pl.col(a).alias("a"), pl.col(b).alias("b")).drop_nulls()
            value = pair.select(pl.corr("a", "b")).item() if pair.height > 1 else None
            rows.append({"x": a, "y": b, "pearson": value})
    return pl.DataFrame(rows, schema={"x": pl.String, "y": pl.String, "pearson": pl.Float64})


def corr_chart(frame: pl.DataFrame, spec: Mapping[str, Any]) -> hv.Layout:
    """`y` against `x` for up to 5,000 customers with both correlations in the title, beside the
    Pearson matrix of the summary columns."""
    x, y = column(field(spec, "x") or "frequency"), column(field(spec, "y") or "monetary_value")
    pair = frame.select(x, y).drop_nulls()
    pearson = pair.select(pl.corr(x, y)).item() if pair.height > 1 else float("nan")
    spearman = pair.select(pl.corr(x, y, method="spearman")).item() if pair.height > 1 else float("nan")
    shown = pair.sample(min(CORR_POINTS, pair.height), seed=SEED)
    points = hv.Scatter(pandas(shown), x, y).opts(
        width=440, height=400, alpha=0.4, size=4, title=f"Pearson {pearson:.3f}, Spearman {spearman:.3f}")
    matrix = hv.HeatMap(pandas(correlation(frame)), ["x", "y"], "pearson").opts(
        width=460, height=400, cmap="RdBu_r", clim=(-1, 1), colorbar=True, tools=["hover"], xrotation=30)
    return hv.Layout([points, matrix]).cols(2)


def model_chart(frame: pl.DataFrame) -> hv.Layout:
    """The models' predictions per RFM segment: mean expected purchases and lifetime value."""
    per_segment = frame.group_by("rfm_segment").agg(
        pl.col("expected_purchases").mean(), pl.col("lifetime_value").mean(), pl.len().alias("customers"))
    return bars_by(per_segment, "rfm_segment", ["expected_purchases", "lifetime_value"])


def rfm_density_chart(frame: pl.DataFrame) -> hv.HexTiles:
    """Customers by recency and frequency as hexagonal bins (up to 25,000 drawn, seed 42)."""
    rows = frame.drop_nulls(["recency", "frequency"])
    shown = rows.sample(min(DENSITY_POINTS, rows.height), seed=SEED)
    return hv.HexTiles(pandas(shown), ["recency", "frequency"]).opts(
        width=900, height=480, cmap="Blues", colorbar=True, tools=["hover"], gridsize=30)


def segment_summary(frame: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Customers, total and mean lifetime value per RFM segment and group of `by`."""
    return frame.group_by([*by, "rfm_segment"]).agg(
        pl.len().alias("customers"), pl.col("lifetime_value").sum().alias("total_value"),
        pl.col("lifetime_value").mean().alias("mean_value")).sort([*by, "rfm_segment"])


def segment_treemap(frame: pl.DataFrame, by: Sequence[str]) -> hv.Element:
    """RFM segments within each group of `by`: area by customers, colour by mean lifetime value."""
    return treemap_chart(segment_summary(frame, by), [*by, "rfm_segment"], "customers", "mean_value")
