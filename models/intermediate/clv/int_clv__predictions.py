"""The latest scoring run of each CLV metric: its latest champion's predictions at the metric's
observation end, with value tiers and clusters (python_udfs/clv/engine/scoring.py). A metric is
scored again only when its cutoff moves; the new run replaces the metric's rows here and is
appended to mart_clv__predictions, which keeps every run."""

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
