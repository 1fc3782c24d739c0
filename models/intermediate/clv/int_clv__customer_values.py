"""Each customer's expected purchases, expected spend and lifetime value over the configured
horizon, from the converged fits of int_clv__model_fits (python_udfs/clv/engine/population.py)."""

from python_udfs.clv.engine.population import values_table
from python_udfs.clv.engine.settings import read_settings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(dbt.ref("int_clv__metric_config").pl())
    summary = dbt.ref("int_clv__customer_summary").project(
        'metric_name, customer_key, frequency, recency, "T", monetary_value, tenure_days').pl()
    return values_table(settings, summary, dbt.ref("int_clv__contracts").pl(), dbt.ref("int_clv__model_fits").pl())
