"""Drift of every matured scoring run against its model's baseline metrics, with the path of the
Markdown alert of each drifting run in the metric's alert_dir beside the warehouse
(python_udfs/clv/engine/drift.py). The alerts themselves are written after the build, from
mart_clv__drift, by valuemarts.clv_files."""

from python_udfs.clv.engine.drift import drift_table
from python_udfs.clv.engine.settings import read_settings, warehouse_file


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(dbt.ref("int_clv__metric_config").pl())
    cards = dbt.ref("mart_clv__model_cards").project("model_id, baseline_rmse, baseline_r2, value_cap").pl()
    return drift_table(settings, dbt.ref("mart_clv__prediction_actuals").pl(), cards, warehouse_file(session))
