"""Experiments: one experiment at a time, its arms side by side, with a sentence of the result."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

import holoviews as hv
import panel as pn
import polars as pl

from viewer.charts.common import pandas
from viewer.kpis import ALPHA, first_metric, wilson
from viewer.pages import Page
from viewer.widgets import data_table, guarded, note, number

SRM_ALPHA = 0.001   # sample-ratio mismatch is flagged at this p-value, as is usual for SRM checks


class ExperimentsPage(Page):
    def panel(self) -> pn.viewable.Viewable:
        self.choice = pn.widgets.Select(label="Experiment", options=[], width=320, css_classes=["vm-experiment"])
        return pn.Column("## Experiments", self.on_data(lambda: guarded(self._experiment_list)),
                         pn.panel(pn.bind(lambda *_: guarded(self._detail), self.choice, self.state.param.version,
                                          self.state.param.filters), sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")

    def _rows(self) -> tuple[pl.DataFrame, Mapping[str, Any]]:
        specs = self.state.marts.specs()
        metric = first_metric(specs, "experiment")
        if metric is None:
            raise ValueError("no experiment metric is configured")
        spec = specs["metrics"][metric]
        return self.state.marts.report(metric, (), self.state.where(metric)), spec

    def _experiment_list(self) -> pn.viewable.Viewable:
        rows, spec = self._rows()
        names = rows[spec["experiment_name"]].unique().sort().to_list()
        self.choice.options = names
        if self.choice.value not in names and names:
            self.choice.value = names[0]
        return self.choice

    def _detail(self) -> pn.viewable.Viewable:
        rows, spec = self._rows()
        name, arm = spec["experiment_name"], spec["experiment_group"]
        arms = rows.filter(pl.col(name) == self.choice.value).sort(["is_control", arm], descending=[True, False])
        if arms.height == 0:
            return note("No experiment rows under these filters.")
        cards = pn.FlexBox(*[arm_card(r, arm) for r in arms.iter_rows(named=True)])
        return pn.Column(pn.pane.HTML(f"<b>{escape(verdict(arms, arm))}</b>", css_classes=["vm-verdict"]),
                         *srm_warning(arms), cards, pn.pane.HoloViews(rate_chart(arms, arm)),
                         data_table(arms, f"experiment_{self.choice.value}"), sizing_mode="stretch_width")


def arm_card(row: Mapping[str, Any], arm: str) -> pn.pane.HTML:
    """An arm's rate with its Wilson interval, and against control its lift and p-values."""
    interval = wilson(row["Positives"], row["Count"])
    lines = [f"{row['Positives']:,} positives of {row['Count']:,}",
             "95% CI " + (f"{number(interval[0], 'percent')} to {number(interval[1], 'percent')}" if interval else "n/a")]
    if row["is_control"]:
        lines.append("control arm")
    else:
        lines += [f"lift {number(row['lift'], 'percent')} (95% CI {number(row['lift_ci_low'], 'percent')} to "
                  f"{number(row['lift_ci_high'], 'percent')})",
                  f"z = {number(row['z_score'])}, p = {number(row['z_p_val'], 'p')}",
                  f"Holm p = {number(row['p_holm'], 'p')}, BH p = {number(row['p_bh'], 'p')}"]
    body = "".join(f"<div class='vm-kpi-line'>{escape(line)}</div>" for line in lines)
    return pn.pane.HTML(f"<div class='vm-kpi'><div class='vm-kpi-title'>{escape(str(row[arm]))}</div>"
                        f"<div class='vm-kpi-value'>{number(row['CTR'], 'percent')}</div>{body}</div>",
                        css_classes=["vm-card"], width=280, margin=6)


def verdict(arms: pl.DataFrame, arm: str, alpha: float = ALPHA) -> str:
    """The result in one sentence: the arms that beat (or trail) control at `alpha` after Holm's
    correction, or that nothing is significant yet.

    Examples
    --------
    >>> rows = pl.DataFrame({"ExperimentGroup": ["Control", "B"], "is_control": [True, False],
    ...                      "lift": [None, 0.25], "p_holm": [None, 0.01]})
    >>> verdict(rows, "ExperimentGroup")
    'B beats control by 25.00% (Holm-adjusted p = 0.01, significant at the 5% level).'
    """
    tested = arms.filter(~pl.col("is_control") & pl.col("p_holm").is_not_null())
    if tested.height == 0:
        return "No arm can be compared with control yet (no positives, or a single arm)."
    winners = tested.filter(pl.col("p_holm") < alpha).sort("lift", descending=True)
    if winners.height == 0:
        best = tested.sort("p_holm").row(0, named=True)
        return (f"Not significant yet at the {alpha:.0%} level: the closest arm, {best[arm]}, has lift "
                f"{number(best['lift'], 'percent')} with Holm-adjusted p = {number(best['p_holm'], 'p')}.")
    parts = [f"{r[arm]} {'beats' if r['lift'] > 0 else 'trails'} control by {number(abs(r['lift']), 'percent')} "
             f"(Holm-adjusted p = {number(r['p_holm'], 'p')}" for r in winners.iter_rows(named=True)]
    return "; ".join(parts) + f", significant at the {alpha:.0%} level)."


def srm_warning(arms: pl.DataFrame) -> list[pn.pane.HTML]:
    """A warning when the arm sizes differ from the expected split more than chance explains."""
    p = arms["srm_p_val"].drop_nulls()
    if p.len() and p[0] < SRM_ALPHA:
        return [note(f"Sample ratio mismatch: the arm sizes differ from the expected split (p = {p[0]:.3g}); "
                     "the assignment may be broken and the result biased.", "warning")]
    return []


def rate_chart(arms: pl.DataFrame, arm: str) -> hv.Overlay:
    """Each arm's rate with its Wilson 95% interval."""
    bounds = [wilson(p, n) or (None, None) for p, n in zip(arms["Positives"], arms["Count"])]
    rows = arms.select(pl.col(arm).cast(pl.String), "CTR").with_columns(
        pl.Series("low", [b[0] for b in bounds]), pl.Series("high", [b[1] for b in bounds]))
    df = pandas(rows).assign(neg=lambda d: d["CTR"] - d["low"], pos=lambda d: d["high"] - d["CTR"])
    return (hv.Bars(df, arm, "CTR").opts(color="#9ecae1", tools=["hover"])
            * hv.ErrorBars(df, arm, ["CTR", "neg", "pos"])).opts(width=600, height=320, title="Rate per arm")
