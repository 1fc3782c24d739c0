"""Append-only predictions keyed by cutoff: each CLV metric scored by its latest champion at its
observation end, once per cutoff, with value tiers and clusters (python_udfs/clv/engine/scoring.py)."""

from python_udfs.clv.engine.scoring import new_predictions
from python_udfs.clv.engine.settings import read_settings


def model(dbt, session):
    dbt.config(materialized="incremental")
    settings = read_settings(dbt.ref("int_clv__metric_config").pl())
    periods = dbt.ref("mart_clv__purchase_periods").project(
        "metric_name, customer_key, purchase_date, spend, observation_end").pl()
    scored = None
    if dbt.is_incremental:
        scored = session.sql(f"select distinct metric_name, cutoff from {dbt.this}").pl()
    return new_predictions(settings, periods, dbt.ref("mart_clv__model_cards").pl(),
                           dbt.ref("mart_clv__champion_manifest").pl(), scored)
