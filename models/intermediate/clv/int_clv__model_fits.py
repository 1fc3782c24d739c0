"""BG/NBD, Gamma-Gamma and, for contractual metrics, sBG fitted on every customer of each CLV
metric: one row per metric, model and parameter (python_udfs/clv/engine/population.py)."""

from python_udfs.clv.engine.population import fits_table
from python_udfs.clv.engine.settings import read_settings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(dbt.ref("int_clv__metric_config").pl())
    summary = dbt.ref("int_clv__customer_summary").project(
        'metric_name, customer_key, frequency, recency, "T", monetary_value, observation_end').pl()
    return fits_table(settings, summary, dbt.ref("int_clv__contracts").pl())
