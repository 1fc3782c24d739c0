"""SQL: one read-only query over the warehouse on the locked-down connection of `valuemarts sql`
(`Warehouse.sql`); a refused query shows why, and nothing changes."""

from __future__ import annotations

from typing import Any

import panel as pn

from valuemarts.errors import ValueMartsError
from viewer.pages import Page
from viewer.widgets import data_table, error_box

EXAMPLE = "select source, count(*) as files, sum(rows_read) as rows_read\nfrom marts.mart_file_loads\ngroup by source"


class SqlPage(Page):
    def panel(self) -> pn.viewable.Viewable:
        self.editor = pn.widgets.CodeEditor(value=EXAMPLE, language="sql", height=160, sizing_mode="stretch_width",
                                            css_classes=["vm-sql-editor"])
        run = pn.widgets.Button(label="Run", color="primary", css_classes=["vm-run"])
        run.on_click(self._run)
        self.result = pn.Column(sizing_mode="stretch_width", css_classes=["vm-sql-result"])
        help_text = pn.pane.Markdown(
            "One `SELECT` (or `EXPLAIN` of one) over the warehouse: `marts` is public; `intermediate`, `staging`, "
            "`landing` and `reference` are readable too. Statements that write, and functions that read or write "
            "files, are refused with the reason.")
        return pn.Column("## SQL", help_text, self.editor, run, self.result, sizing_mode="stretch_width")

    def _run(self, _event: Any) -> None:
        query = self.editor.value
        try:
            frame = self.state.marts.warehouse.sql(query)
        except ValueMartsError as exc:
            self.result.objects = [error_box(exc)]
            return
        self.result.objects = [data_table(frame, "query")]
