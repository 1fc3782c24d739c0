"""The state of one viewer session: the page shown, the global filters, and the version of the
warehouse file the pages show (bumped when a build swaps a new file in)."""

from __future__ import annotations

from typing import Any

import param

from viewer.filters import merged, where_sql
from viewer.marts import Marts, Stamp
from viewer.plans import groupable

PAGES = {
    "home": "Home",
    "dashboard": "Dashboard",
    "reports": "Reports",
    "experiments": "Experiments",
    "clv": "CLV",
    "data_import": "Data import",
    "configuration": "Configuration",
    "sql": "SQL",
    "history": "History",
    "chat": "Chat",
}


class ViewerState(param.Parameterized):
    """What every page of a session reads and watches.

    Pages redraw when `version` changes (a new warehouse) or `filters` change; the page itself
    is `page`, kept in the URL (`?page=dashboard`) so a page can be linked and reloaded.
    """

    page = param.Selector(default="home", objects=list(PAGES), doc="the page shown")
    filters = param.Dict(default={}, doc="global filter column -> chosen values; absent means all")
    version = param.Integer(default=0, doc="bumped each time the warehouse file changes")

    def __init__(self, marts: Marts, **params: Any) -> None:
        super().__init__(**params)
        self.marts = marts
        self._seen: Stamp | None = marts.stamp()

    def check_warehouse(self) -> bool:
        """Bump `version` if the warehouse file changed since last seen (a build swapped it in)."""
        now = self.marts.stamp()
        if now == self._seen:
            return False
        self._seen = now
        self.version += 1
        return True

    def where(self, metric: str, extra: dict[str, list[Any]] | None = None) -> str | None:
        """The global filters (and `extra` ones) as a filter on `metric`'s grouping columns."""
        columns = groupable(self.marts.specs()["metrics"][metric])
        return where_sql(merged(self.filters, extra or {}), columns)

