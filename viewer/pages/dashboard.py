"""Dashboard: KPI cards with their trends, and daily charts, under the global filters."""

from __future__ import annotations

import panel as pn

from viewer.charts.lines import line_chart
from viewer.charts.sparkline import sparkline
from viewer.kpis import dashboard_kpis, first_metric
from viewer.pages import Page
from viewer.plans import groupable
from viewer.widgets import guarded, kpi_card

# (family, score, title) of the charts under the cards: a rate by day, one line per channel.
DAILY_CHARTS = (("engagement", "CTR", "Click-through rate by day and channel"),
                ("conversion", "ConversionRate", "Conversion rate by day and channel"))


class DashboardPage(Page):
    def panel(self) -> pn.viewable.Viewable:
        self.charts = pn.Column(sizing_mode="stretch_width")
        self.state.param.watch(lambda _event: self._charts_later(), ["version", "filters"])
        pn.state.onload(self._charts_later)
        return pn.Column(self.on_data(lambda: guarded(self._cards)), self.charts, sizing_mode="stretch_width")

    def _charts_later(self) -> None:
        """Draw the charts once the cards are on screen: the KPIs are what a filter change is for,
        so they go to the browser first (outside a server session, at once)."""
        document = pn.state.curdoc
        draw = lambda: setattr(self.charts, "objects", [guarded(self._charts)])  # noqa: E731
        if document is not None and document.session_context is not None:
            document.add_next_tick_callback(draw)
        else:
            draw()

    def _cards(self) -> pn.viewable.Viewable:
        cards = []
        for kpi in dashboard_kpis(self.state.marts, self.state.where):
            trend = sparkline(kpi.trend, kpi.trend_x, kpi.trend_y) if kpi.trend is not None else ""
            cards.append(kpi_card(kpi.key, kpi.title, kpi.value, kpi.kind, kpi.lines, trend))
        return pn.FlexBox(*cards, css_classes=["vm-cards"])

    def _charts(self) -> pn.viewable.Viewable:
        specs = self.state.marts.specs()
        charts = []
        for family, score, title in DAILY_CHARTS:
            metric = first_metric(specs, family)
            if metric is None or not {"Day", "Channel"} <= set(groupable(specs["metrics"][metric])):
                continue
            frame = self.state.marts.report(metric, ["Day", "Channel"], self.state.where(metric))
            chart = line_chart(frame, {"x": "Day", "y": score, "color": "Channel"}).opts(title=title)
            charts.append(pn.pane.HoloViews(chart, sizing_mode="stretch_width"))
        return pn.Column(*charts, sizing_mode="stretch_width")
