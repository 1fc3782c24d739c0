"""The sidebar: page navigation and the global filters (`metrics.global_filters`), one
multi-select per column, offering the values in the marts and applying to every page."""

from __future__ import annotations

from typing import Any

import panel as pn

from valuemarts.errors import ValueMartsError
from viewer.marts import Marts
from viewer.plans import groupable
from viewer.state import PAGES, ViewerState
from viewer.widgets import note, options


def navigation(state: ViewerState) -> pn.widgets.RadioButtonGroup:
    """One button per page, kept in step with `state.page` both ways."""
    nav = pn.widgets.RadioButtonGroup(options={label: key for key, label in PAGES.items()}, value=state.page,
                                      orientation="vertical", color="light", sizing_mode="stretch_width",
                                      css_classes=["vm-nav"])
    nav.link(state, value="page", bidirectional=True)
    return nav


class GlobalFilters:
    """The filter widgets; their options follow the warehouse (refreshed on a new version), and
    choices still offered survive a rebuild."""

    def __init__(self, state: ViewerState) -> None:
        self.state = state
        self.widgets: dict[str, pn.widgets.MultiChoice] = {}
        self.box = pn.Column(sizing_mode="stretch_width")
        self.refresh()
        state.param.watch(lambda _event: self.refresh(), "version")

    def refresh(self) -> None:
        """Offer the values each filter column has now."""
        try:
            options = filter_options(self.state.marts)
        except ValueMartsError as exc:
            self.box.objects = [note(f"Filters: none yet ({exc})")]
            return
        for column, values in options.items():
            widget = self.widgets.get(column)
            if widget is None:
                widget = pn.widgets.MultiChoice(label=column, options=values, sizing_mode="stretch_width",
                                                css_classes=["vm-filter"])
                widget.param.watch(self._changed, "value")
                self.widgets[column] = widget
            else:
                widget.options = values
                widget.value = [v for v in widget.value if v in values.values()]
        self.box.objects = [pn.pane.Markdown("### Filters")] + [self.widgets[c] for c in options]

    def _changed(self, _event: Any) -> None:
        self.state.filters = {c: list(w.value) for c, w in self.widgets.items() if w.value}


def filter_options(marts: Marts) -> dict[str, dict[str, Any]]:
    """Each global filter column -> its values in the marts (label -> value), read from the first
    IH metric that groups by it."""
    if not marts.exists():
        raise ValueMartsError("no warehouse yet")
    specs = marts.specs()
    found = {}
    for column in specs["global_filters"]:
        metric = next((name for name, m in specs["metrics"].items()
                       if m["family"] != "clv" and column in groupable(m)), None)
        if metric is None:
            continue
        values = marts.report(metric, [column])[column].drop_nulls().unique().sort().to_list()
        found[column] = options(values)
    return found
