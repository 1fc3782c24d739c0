"""One module per page of the viewer; each has a `Page` built once per session from its
`ViewerState`, whose parts redraw when the warehouse version or the global filters change."""

from __future__ import annotations

from typing import Any

import panel as pn

from viewer.jobs import BuildRunner
from viewer.state import ViewerState


class Page:
    """A page of the viewer: `panel()` is its content, built once per session."""

    def __init__(self, state: ViewerState, runner: BuildRunner) -> None:
        self.state = state
        self.runner = runner

    def panel(self) -> pn.viewable.Viewable:
        raise NotImplementedError

    def on_data(self, render: Any) -> pn.viewable.Viewable:
        """`render()` redrawn whenever the warehouse or the global filters change."""
        return pn.panel(pn.bind(lambda _v, _f: render(), self.state.param.version, self.state.param.filters),
                        loading_indicator=True, sizing_mode="stretch_width")
