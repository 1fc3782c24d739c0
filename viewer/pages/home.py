"""Home: what is loaded (files, rows, date range), the last build and its config, links to every page."""

from __future__ import annotations

from html import escape

import panel as pn

from viewer.kpis import first_metric
from viewer.pages import Page
from viewer.plans import groupable
from viewer.state import PAGES
from viewer.widgets import data_table, guarded, note

FILES_SQL = ("select source, count(*) as files, sum(rows_read) as rows_read, sum(rows_kept) as rows_kept, "
             "max(loaded_at) as last_loaded from marts.mart_file_loads where is_current group by source order by source")
CUSTOMERS_SQL = ("select count(*) as customers, min(first_purchase_date) as first_purchase, "
                 "max(last_purchase_date) as last_purchase from marts.mart_clv__customers")


class HomePage(Page):
    def panel(self) -> pn.viewable.Viewable:
        links = []
        for key, label in PAGES.items():
            if key != "home":
                links.append(pn.widgets.Button(label=label, color="light", width=140))
                links[-1].on_click(lambda _e, key=key: setattr(self.state, "page", key))
        return pn.Column(self.on_data(lambda: guarded(self._summary)), pn.pane.Markdown("### Pages"),
                         pn.FlexBox(*links), sizing_mode="stretch_width")

    def _summary(self) -> pn.viewable.Viewable:
        marts = self.state.marts
        if not marts.exists():
            return note(f"No warehouse yet at {marts.path}. Import export files on the Data import page.", "warning")
        specs = marts.specs()
        builds = marts.builds()
        copyright_ = specs.get("copyright") or {}
        lines = [f"## {escape(str(copyright_.get('name') or 'valuemarts'))}",
                 f"**Warehouse** `{escape(str(marts.path))}`",
                 f"**Config** {escape(specs['config_name'])}, version {escape(str(copyright_.get('version', 'n/a')))} "
                 f"({escape(str(copyright_.get('version_date', 'undated')))}), hash `{specs['config_hash'][:12]}`"]
        if builds.height:
            last = builds.row(0, named=True)
            lines.append(f"**Last build** {last['built_at']:%Y-%m-%d %H:%M:%S %Z} with config {escape(last['config_name'])} "
                         f"(`{last['config_hash'][:12]}`); {builds.height} build(s) recorded")
        else:
            lines.append("**Last build** none recorded: the files are loaded but dbt has not built the marts")
        lines += self._ranges(specs)
        files = marts.query(FILES_SQL)
        return pn.Column(pn.pane.Markdown("\n\n".join(lines)), pn.pane.Markdown("### Files loaded"),
                         data_table(files, "files_loaded"), sizing_mode="stretch_width")

    def _ranges(self, specs: dict) -> list[str]:
        out = []
        metric = first_metric(specs, "engagement")
        if metric is not None and "Day" in groupable(specs["metrics"][metric]):
            days = self.state.marts.report(metric, ["Day"]).drop_nulls("Day")
            if days.height:
                out.append(f"**Interaction History** {days['Count'].sum():,} labelled interactions from "
                           f"{days['Day'].min()} to {days['Day'].max()}, {days.height} days")
        if first_metric(specs, "clv") is not None:
            row = self.state.marts.query(CUSTOMERS_SQL).row(0, named=True)
            out.append(f"**Product Holdings** {row['customers']:,} customers, purchases from "
                       f"{row['first_purchase']} to {row['last_purchase']}")
        return out

