"""Line and bar charts of IH metric reports (`type = "line"`, `"generic"`) and the experiment
significance charts (`line` reports of an experiment metric, whose `x` picks the statistic)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import holoviews as hv
import hvplot.pandas  # noqa: F401  (registers .hvplot on pandas frames)
import polars as pl

from viewer.charts.common import ACCENT, FAR_BELOW, ON_TARGET, facets, field, flag, labels, pandas

Z_95 = 1.959963984540054   # the 97.5% normal quantile, as the scoring macros write it
# The reference draws bars below this many distinct x values (CTR and z-scores: 25, others 30).
_BAR_LIMITS = {"CTR": 25, "Lift_Z_Score": 25}
_BAR_LIMIT = 30


def line_chart(frame: pl.DataFrame, spec: Mapping[str, Any]) -> hv.Element:
    """`y` over `x`, one line (or bar group) per `color`, faceted; bars when x has few values.

    CTR bars carry their Wilson 95% interval (CTR_ci_low/high) when no colour splits them, and a
    z-score chart shades the band |z| < 1.96 where a lift is not significant at 5%.
    """
    x, y, color = field(spec, "x"), field(spec, "y"), field(spec, "color")
    if x is None or y is None:
        raise ValueError("a line chart needs x and y")
    bars = frame[x].n_unique() < _BAR_LIMITS.get(y, _BAR_LIMIT)
    log_y = flag(spec, "log_y")

    def draw(part: pl.DataFrame) -> hv.Element:
        part = part.sort([c for c in (x, color) if c])
        if bars:
            df = pandas(part.with_columns(pl.col(x).cast(pl.String)))
            chart = df.hvplot.bar(x=x, y=y, by=color, rot=45) if color else df.hvplot.bar(x=x, y=y, rot=45)
            if color is None and y == "CTR" and {"CTR_ci_low", "CTR_ci_high"} <= set(part.columns):
                chart = chart * _interval_bars(df, x, y, "CTR_ci_low", "CTR_ci_high")
        else:
            chart = pandas(part).hvplot.line(x=x, y=y, by=color, logy=log_y)
        if y == "Lift_Z_Score":
            chart = hv.HSpan(-Z_95, Z_95).opts(color="gray", alpha=0.15) * chart
        return chart

    return facets(frame, spec, draw, show_legend=flag(spec, "showlegend", True))


def _interval_bars(df: Any, x: str, y: str, low: str, high: str) -> hv.ErrorBars:
    errors = df.assign(_neg=df[y] - df[low], _pos=df[high] - df[y])
    return hv.ErrorBars(errors, kdims=[x], vdims=[y, "_neg", "_pos"]).opts(color="black")


def experiment_chart(frame: pl.DataFrame, spec: Mapping[str, Any], arm: str) -> hv.Element:
    """Significance of each arm against its experiment's control.

    `x = "z_score"`: the z statistic per experiment and arm, with the band |z| < 1.96 shaded.
    `x` naming an odds ratio (`g_odds_ratio_stat`, `chi2_odds_ratio_stat`, ...): the odds ratio
    with its 95% interval and a line at 1, coloured Test when the interval lies above 1 and
    Control when below (the reference's colouring). Control arms have no statistic and are left out.
    """
    x = field(spec, "x") or "z_score"
    name = field(spec, "y") or "ExperimentName"
    rows = labels(frame.filter(~pl.col("is_control")), [name, arm])

    def draw(part: pl.DataFrame) -> hv.Element:
        if x == "z_score":
            bars = hv.Bars(pandas(part.drop_nulls("z_score")), "label", "z_score").opts(color=ACCENT, xrotation=30)
            return hv.HSpan(-Z_95, Z_95).opts(color="gray", alpha=0.15) * bars
        ratio = part.drop_nulls("odds_ratio_stat").with_columns(
            pl.when(pl.col("odds_ratio_ci_low") > 1).then(pl.lit("Test"))
            .when(pl.col("odds_ratio_ci_high") < 1).then(pl.lit("Control")).otherwise(pl.lit("N/A")).alias("wins"))
        df = pandas(ratio)
        points = hv.Scatter(df, "label", ["odds_ratio_stat", "wins"]).opts(
            color="wins", cmap={"Test": ON_TARGET, "Control": FAR_BELOW, "N/A": "gray"}, size=10, xrotation=30,
            show_legend=True)
        return hv.HLine(1.0).opts(color="gray", line_dash="dashed") * _interval_bars(
            df, "label", "odds_ratio_stat", "odds_ratio_ci_low", "odds_ratio_ci_high") * points

    return facets(rows, spec, draw)
