"""Reports: every `[reports.*]` of the config drawn by its type, with a per-report filter, the
rows under the chart and their CSV. The report shown is in the URL (`?page=reports&report=NAME`)."""

from __future__ import annotations

import re
from html import escape
from typing import Any

import panel as pn
import param
import polars as pl

from viewer.jobs import BuildRunner
from viewer.pages import Page
from viewer.plans import Plan, groupable, histogram_sql, plan_for
from viewer.state import ViewerState
from viewer.widgets import data_table, guarded, options

_TAG = re.compile(r"^\[([^\]]+)\]\s*")


class ReportChoice(param.Parameterized):
    report = param.String(default="", doc="the [reports.*] table shown")


class ReportsPage(Page):
    def __init__(self, state: ViewerState, runner: BuildRunner) -> None:
        super().__init__(state, runner)
        self.choice = ReportChoice()
        if pn.state.location is not None:
            pn.state.location.sync(self.choice, {"report": "report"})

    def panel(self) -> pn.viewable.Viewable:
        self.select = pn.widgets.Select(label="Report", width=420, css_classes=["vm-report-select"])
        self.select.link(self.choice, value="report", bidirectional=True)
        self.filter_column = pn.widgets.Select(label="Filter this report by", width=220)
        self.filter_values = pn.widgets.MultiChoice(label="values", width=420)
        self.x = pn.widgets.Select(label="x", width=180)
        self.y = pn.widgets.Select(label="y", width=180)
        self.color = pn.widgets.Select(label="color", width=180)
        self.generic = pn.Row(self.x, self.y, self.color, visible=False)
        self.filter_column.param.watch(self._offer_values, "value")
        self.choice.param.watch(lambda _e: guarded(self._offer_columns), "report")
        chart = pn.bind(lambda *_: guarded(self._render), self.choice.param.report, self.filter_values, self.x,
                        self.y, self.color, self.state.param.version, self.state.param.filters)
        reports = pn.bind(lambda _version: guarded(self._offer_reports), self.state.param.version)
        return pn.Column("## Reports", pn.panel(reports),
                         pn.Row(self.filter_column, self.filter_values), self.generic,
                         pn.panel(chart, loading_indicator=True, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")

    def _offer_reports(self) -> pn.viewable.Viewable:
        reports = self.state.marts.specs()["reports"]
        groups: dict[str, dict[str, str]] = {}
        for name, spec in reports.items():
            match = _TAG.match(spec["description"])
            label = spec["description"][match.end():] if match else spec["description"]
            groups.setdefault(match.group(1) if match else "Other", {})[f"{label} ({name})"] = name
        self.select.groups = groups
        if self.choice.report not in reports:
            self.choice.report = next(iter(reports), "")
        self.select.value = self.choice.report
        self._offer_columns()
        return self.select

    def _offer_columns(self) -> None:
        """The per-report filter and the generic report's choices, for the report chosen."""
        specs = self.state.marts.specs()
        spec = specs["reports"].get(self.choice.report)
        if spec is None:
            return
        metric = specs["metrics"][spec["metric"]]
        columns = groupable(metric)
        self.filter_column.options = ["(none)", *columns]
        if self.filter_column.value not in columns:
            self.filter_column.value = "(none)"
        generic = spec.get("type") == "generic"
        self.generic.visible = generic
        if generic:
            scores = [c for c, t in self.state.marts.report(spec["metric"]).schema.items() if t.is_numeric()]
            self.x.options, self.y.options, self.color.options = columns, scores, ["(none)", *columns]
            self.x.value = spec.get("x") or ("Day" if "Day" in columns else columns[0])
            self.y.value = spec.get("y") or scores[0]
            self.color.value = spec.get("color") or "(none)"

    def _offer_values(self, _event: Any) -> None:
        self.filter_values.value = []
        column = self.filter_column.value
        spec = self.state.marts.specs()["reports"].get(self.choice.report)
        if spec is None or column in (None, "(none)"):
            self.filter_values.options = []
            return
        values = self.state.marts.report(spec["metric"], [column])[column].drop_nulls().unique().sort().to_list()
        self.filter_values.options = options(values)

    def _render(self) -> pn.viewable.Viewable:
        specs = self.state.marts.specs()
        spec = specs["reports"].get(self.choice.report)
        if spec is None:
            return pn.pane.Markdown("No report chosen.")
        if spec.get("type") == "generic":
            spec = {**spec, "x": self.x.value, "y": self.y.value,
                    "color": None if self.color.value == "(none)" else self.color.value}
        plan = plan_for(spec, specs["metrics"])
        column = self.filter_column.value
        extra = {column: list(self.filter_values.value)} if self.filter_values.value else None
        frame = self.fetch(plan, self.state.where(plan.metric, extra))
        chart = plan.draw(frame)
        by = ", ".join(plan.by) or "nothing (all rows)"
        return pn.Column(pn.pane.HTML(f"<h3>{escape(spec['description'])}</h3><code>{escape(self.choice.report)}</code>: "
                                      f"{escape(spec['type'])} of {escape(spec['metric'])}, by {escape(by)}"),
                         pn.pane.HoloViews(chart, widget_type="scrubber", widget_location="bottom",
                                           css_classes=["vm-chart"]),
                         data_table(frame, self.choice.report), sizing_mode="stretch_width")

    def fetch(self, plan: Plan, where: str | None) -> pl.DataFrame:
        """The rows a plan draws: its report, or its digest histogram bins."""
        if plan.source == "histogram":
            return self.state.marts.query(histogram_sql(plan.metric, plan.prop, plan.by, where))
        return self.state.marts.report(plan.metric, plan.by, where, plan.prop)
