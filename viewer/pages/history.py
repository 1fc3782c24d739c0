"""History: the builds and loads of this warehouse (the run ledger), its config versions and their
diff, each experiment's statistics build by build with its peeking flag, and the verdicts, which
can be recorded here. All of it is the history beside the warehouse, read through valuemarts.api."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import holoviews as hv
import panel as pn
import polars as pl

from valuemarts.errors import ValueMartsError
from valuemarts.history.verdicts import DECISIONS, REASONS
from viewer.charts.common import pandas
from viewer.pages import Page
from viewer.widgets import data_table, error_box, guarded, note, options

# What the trend chart can follow, with its label.
MEASURES = {"lift": "Lift vs control", "p_holm": "Holm-adjusted p-value", "count": "Labelled rows",
            "units": "Customers (units)", "ctr": "Rate"}


class HistoryPage(Page):
    def panel(self) -> pn.viewable.Viewable:
        warehouse = self.state.marts.warehouse
        self.dates = pn.widgets.DateRangePicker(label="Runs started between", width=320, css_classes=["vm-history-dates"])
        self.experiment = pn.widgets.Select(label="Experiment", options=[], width=320)
        self.measure = pn.widgets.Select(label="Measure", options={v: k for k, v in MEASURES.items()}, value="lift",
                                         width=240)
        self.old = pn.widgets.IntInput(label="Config version", value=1, start=1, width=140)
        self.new = pn.widgets.IntInput(label="compared with", value=1, start=1, width=140)
        self.verdicts_box = pn.Column(sizing_mode="stretch_width")
        changed = self.state.param.version
        return pn.Column(
            "## History",
            pn.pane.Markdown("Every build and load of this warehouse, failed ones too, with the config version it "
                             "used; each build's snapshot of the experiments; and what was decided."),
            "### Runs", self.dates,
            pn.panel(pn.bind(lambda *_: guarded(lambda: data_table(
                runs_between(warehouse.runs(), *(self.dates.value or (None, None))), "runs")), self.dates, changed),
                sizing_mode="stretch_width"),
            "### Config versions",
            pn.panel(pn.bind(lambda *_: guarded(lambda: data_table(warehouse.config_versions(), "config_versions")),
                             changed), sizing_mode="stretch_width"),
            pn.Row(self.old, self.new),
            pn.panel(pn.bind(lambda *_: guarded(self._diff), self.old, self.new, changed), sizing_mode="stretch_width"),
            "### Experiments build by build", pn.Row(self.experiment, self.measure),
            pn.panel(pn.bind(lambda *_: guarded(self._trend), self.experiment, self.measure, changed),
                     sizing_mode="stretch_width"),
            "### Verdicts", self._verdict_form(),
            self.verdicts_box,
            sizing_mode="stretch_width", css_classes=["vm-history"])

    def _diff(self) -> pn.viewable.Viewable:
        if self.old.value == self.new.value:
            return note("Pick two different versions to see what changed between them.")
        diff = self.state.marts.warehouse.config_diff(self.old.value, self.new.value)
        if diff.is_empty():
            return note("The two versions differ in comments or layout only.")
        return data_table(diff, f"config_diff_{self.old.value}_{self.new.value}")

    def _trend(self) -> pn.viewable.Viewable:
        history = self.state.marts.warehouse.experiment_history()
        if history.is_empty():
            return note("No experiment snapshots yet: each build that swaps in new marts records one.")
        names = history["experiment"].unique().sort().to_list()
        if self.experiment.options != options(names):
            self.experiment.options = options(names)
        chosen = self.experiment.value if self.experiment.value in names else names[0]
        rows = history.filter(pl.col("experiment") == chosen)
        flagged = rows.filter(pl.col("peeking"))
        parts: list[Any] = []
        if flagged.height:
            parts.append(note(f"Peeking: significance came and went across builds ({flagged['peeking_dates'][0]}); "
                              "a decision taken at the first date would have been premature.", "warning"))
        parts += [pn.pane.HoloViews(trend_chart(rows, self.measure.value), css_classes=["vm-chart"]),
                  data_table(rows, f"experiment_history_{chosen}")]
        return pn.Column(*parts, sizing_mode="stretch_width")

    def _verdict_form(self) -> pn.viewable.Viewable:
        self.subject = pn.widgets.Select(label="Subject", options=[], width=320, css_classes=["vm-verdict-subject"])
        self.decision = pn.widgets.Select(label="Decision", options=list(DECISIONS), width=160)
        self.reason = pn.widgets.Select(label="Reason", options=list(REASONS), width=220)
        self.note_text = pn.widgets.TextInput(label="Note", width=420, css_classes=["vm-verdict-note"])
        self.decided_by = pn.widgets.TextInput(label="Decided by", placeholder="your name", width=200)
        record = pn.widgets.Button(label="Record verdict", color="primary", css_classes=["vm-record-verdict"])
        record.on_click(self._record)
        self._refresh_verdicts()
        return pn.Column(pn.Row(self.subject, self.decision, self.reason),
                         pn.Row(self.note_text, self.decided_by), record)

    def _record(self, _event: Any) -> None:
        try:
            self.state.marts.warehouse.add_verdict(self.subject.value or "", self.decision.value, self.reason.value,
                                                   self.note_text.value, self.decided_by.value or None)
        except ValueMartsError as exc:   # a subject, decision or reason outside the lists
            self.verdicts_box.objects = [error_box(exc), *self.verdicts_box.objects[-1:]]
            return
        self.note_text.value = ""
        self._refresh_verdicts(recorded=True)

    def _refresh_verdicts(self, recorded: bool = False) -> None:
        warehouse = self.state.marts.warehouse
        try:
            history = warehouse.experiment_history()
            specs = self.state.marts.specs() if self.state.marts.exists() else {}
        except ValueMartsError:   # no warehouse yet
            history, specs = pl.DataFrame(), {}
        self.subject.options = options(verdict_subjects(specs, history))
        shown = [data_table(warehouse.verdicts(), "verdicts")]
        self.verdicts_box.objects = ([note("Verdict recorded.", "success")] if recorded else []) + shown


def runs_between(runs: pl.DataFrame, start: date | None, end: date | None) -> pl.DataFrame:
    """The runs that started on or after `start` and on or before `end` (whole days, UTC).

    Examples
    --------
    >>> runs = pl.DataFrame({"run_id": [1, 2], "started_at": ["2026-11-01T10:00:00+00:00", "2026-11-03T09:00:00+00:00"]})
    >>> runs_between(runs, date(2026, 11, 2), None)["run_id"].to_list()
    [2]
    """
    if runs.is_empty():
        return runs
    day = pl.col("started_at").str.slice(0, 10)
    if start is not None:
        runs = runs.filter(day >= start.isoformat())
    if end is not None:
        runs = runs.filter(day <= end.isoformat())
    return runs


def verdict_subjects(specs: Mapping[str, Any], history: pl.DataFrame) -> list[str]:
    """What a verdict can be about: every experiment in the snapshots and every configured report."""
    experiments = sorted(history["experiment"].unique().to_list()) if "experiment" in history.columns else []
    reports = sorted(specs.get("reports", {}))
    return [f"experiment:{name}" for name in experiments] + [f"report:{name}" for name in reports]


def trend_chart(rows: pl.DataFrame, measure: str) -> hv.Overlay:
    """One line per arm of `measure` over the builds (snapshot time), with a point per build."""
    frame = rows.select(pl.col("built_at").map_elements(datetime.fromisoformat, return_dtype=pl.Datetime("us", "UTC"))
                        .dt.replace_time_zone(None).alias("built"), pl.col("arm").cast(pl.String),
                        pl.col(measure).cast(pl.Float64).alias("value"))
    overlay = hv.Overlay([(hv.Curve(pandas(part), "built", "value", label=str(arm))
                           * hv.Scatter(pandas(part), "built", "value", label=str(arm)).opts(size=6))
                          for (arm,), part in frame.sort("built").group_by("arm", maintain_order=True)])
    return overlay.opts(hv.opts.Curve(tools=["hover"]), hv.opts.Overlay(
        width=700, height=320, title=MEASURES[measure], legend_position="right", ylabel=MEASURES[measure]))
