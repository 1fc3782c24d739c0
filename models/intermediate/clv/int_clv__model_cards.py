"""Append-only model cards: a training run (baseline and challenger, window grid included) for each
CLV metric without a champion for its current training signature (python_udfs/clv/engine/champion.py).
The cards are this model's own state: it reads them to know which signatures are trained."""

from python_udfs.clv.engine.champion import new_cards
from python_udfs.clv.engine.settings import read_settings


def model(dbt, session):
    dbt.config(materialized="incremental")
    settings = read_settings(dbt.ref("int_clv__metric_config").pl())
    periods = dbt.ref("mart_clv__purchase_periods").project(
        "metric_name, customer_key, purchase_date, spend, observation_end").pl()
    trained = None
    if dbt.is_incremental:
        trained = session.sql(f"select metric_name, training_signature from {dbt.this} where is_champion").pl()
    return new_cards(settings, periods, trained)
