"""CLV: RFM segments, value tiers, clusters, the models' fit and parameters, drift status and alerts."""

from __future__ import annotations

import panel as pn
import polars as pl

from viewer.charts.clv import segment_summary
from viewer.charts.grids import bars_by
from viewer.kpis import first_metric
from viewer.pages import Page
from viewer.widgets import data_table, guarded, note

TIERS_SQL = ("select value_tier, count(*) as customers, sum(lifetime_value) as total_value, "
             "avg(lifetime_value) as mean_value from marts.mart_clv__customers where metric_name = {m} "
             "group by value_tier order by mean_value desc")
CLUSTERS_SQL = ("select * from marts.mart_clv__clusters where metric_name = {m} "
                "and cutoff = (select max(cutoff) from marts.mart_clv__clusters where metric_name = {m}) order by cluster")
FITS_SQL = ("select model, parameter, value, log_likelihood, converged, n_customers, time_unit, observation_end "
            "from marts.mart_clv__model_fits where metric_name = {m} order by model, parameter")
CHAMPION_SQL = ("select model_id, model_type, promoted_at, train_cutoff, history_months, pred_months, baseline_rmse, "
                "baseline_r2 from marts.mart_clv__champion_manifest where metric_name = {m} order by promoted_at desc")
DRIFT_SQL = ("select cutoff, model_id, customers, rmse, r2, baseline_rmse, baseline_r2, rmse_increase, r2_decrease, "
             "is_drift, alert_path from marts.mart_clv__drift where metric_name = {m} order by cutoff desc")


class ClvPage(Page):
    def panel(self) -> pn.viewable.Viewable:
        return pn.Column("## Customer lifetime value", self.on_data(lambda: guarded(self._content)),
                         sizing_mode="stretch_width")

    def _content(self) -> pn.viewable.Viewable:
        from valuemarts.sql_names import quote_string

        metric = first_metric(self.state.marts.specs(), "clv")
        if metric is None:
            return note("No CLV metric is configured.")
        query = self.state.marts.query
        m = quote_string(metric)
        customers = self.state.marts.report(metric)
        segments = segment_summary(customers, [])
        tiers = query(TIERS_SQL.format(m=m))
        drift = query(DRIFT_SQL.format(m=m))
        return pn.Column(
            "### RFM segments", pn.pane.HoloViews(bars_by(segments, "rfm_segment", ["customers", "mean_value"])),
            data_table(segments, "clv_segments"),
            "### Value tiers", pn.pane.HoloViews(bars_by(tiers, "value_tier", ["customers", "mean_value"])),
            data_table(tiers, "clv_value_tiers"),
            "### Clusters (latest cutoff)", data_table(query(CLUSTERS_SQL.format(m=m)), "clv_clusters"),
            "### Model fit and parameters", data_table(query(FITS_SQL.format(m=m)), "clv_model_fits"),
            "### Champion model", data_table(query(CHAMPION_SQL.format(m=m)), "clv_champion"),
            "### Drift", drift_status(drift), data_table(drift, "clv_drift"),
            sizing_mode="stretch_width")


def drift_status(drift: pl.DataFrame) -> pn.pane.HTML:
    """The latest drift check in one line, and the alerts written for drifting models."""
    if drift.height == 0:
        return note("No drift check yet: predictions are checked once their period has actual purchases.")
    latest = drift.filter(pl.col("cutoff") == drift["cutoff"].max())
    drifting = latest.filter(pl.col("is_drift"))
    if drifting.height == 0:
        return note(f"No drift at the latest check ({latest['cutoff'][0]}).", "success")
    alerts = ", ".join(p for p in drifting["alert_path"].drop_nulls().to_list()) or "none written"
    return note(f"Drift at the latest check ({latest['cutoff'][0]}) for {drifting.height} model(s); alerts: {alerts}",
                "warning")
