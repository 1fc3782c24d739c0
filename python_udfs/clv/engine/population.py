"""Models fitted on every customer of a CLV metric, and the value they give each customer.

BG/NBD on (frequency, recency, T) of all customers, one-time buyers included; Gamma-Gamma on the
repeat buyers with a positive mean spend; for contractual metrics, the shifted-beta-geometric on
the customers' contract histories (terms paid, churned or still running). The horizon is
`horizon_months` converted to the model's time unit; the optional annual discount rate is applied
per month. A customer's lifetime value is her expected one-off spend over the horizon (BG/NBD x
Gamma-Gamma) plus, for contractual metrics, her expected recurring payments (`contractual`).
Values are left empty when the model they need did not converge: a non-converged fit has no
meaningful parameters to report values from.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from python_udfs.clv import bgnbd, gamma_gamma, sbg, value
from python_udfs.clv.engine import contractual
from python_udfs.clv.engine.settings import ClvSettings, for_metric
from python_udfs.clv.engine.threads import single_threaded
from python_udfs.clv.fit import FitResult

FITS_SCHEMA: dict[str, pl.DataType] = {
    "metric_name": pl.String, "model": pl.String, "parameter": pl.String, "value": pl.Float64,
    "log_likelihood": pl.Float64, "converged": pl.Boolean, "iterations": pl.Int64, "n_customers": pl.Int64,
    "message": pl.String, "time_unit": pl.String, "observation_end": pl.Date,
}
VALUES_SCHEMA: dict[str, pl.DataType] = {
    "metric_name": pl.String, "customer_key": pl.String, "p_alive": pl.Float64,
    "expected_purchases": pl.Float64, "expected_spend": pl.Float64, "one_off_value": pl.Float64,
    "expected_renewals": pl.Float64, "recurring_clv": pl.Float64, "recurring_basis": pl.String,
    "lifetime_value": pl.Float64,
}


@single_threaded
def fit_models(summary: pl.DataFrame, contracts: pl.DataFrame, settings: ClvSettings) -> list[FitResult]:
    """The metric's fits; a model whose data is empty is left out rather than failing the build."""
    results = []
    if summary.height:
        results.append(bgnbd.fit(summary["frequency"], summary["recency"], summary["T"]))
    repeat = summary.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))
    if repeat.height:
        results.append(gamma_gamma.fit(repeat["frequency"], repeat["monetary_value"]))
    if settings.contractual and contracts.height:
        results.append(sbg.fit(contracts["contracts"], ~contracts["is_active"].to_numpy()))
    return results


def fits_frame(results: list[FitResult], settings: ClvSettings, observation_end: date | None) -> pl.DataFrame:
    """Long format: one row per model and parameter, the fit's LL and status repeated on each."""
    rows = [
        {"metric_name": settings.metric_name, "model": r.model, "parameter": name, "value": v,
         "log_likelihood": r.log_likelihood, "converged": r.converged, "iterations": r.iterations,
         "n_customers": r.n_customers, "message": r.message, "time_unit": settings.time_unit,
         "observation_end": observation_end}
        for r in results for name, v in r.params.items()
    ]
    return pl.DataFrame(rows, schema=FITS_SCHEMA)


def converged_params(fits: pl.DataFrame, metric_name: str, model: str) -> dict[str, float] | None:
    rows = fits.filter((pl.col("metric_name") == metric_name) & (pl.col("model") == model) & pl.col("converged"))
    return dict(zip(rows["parameter"].to_list(), rows["value"].to_list())) or None


@single_threaded
def customer_values(summary: pl.DataFrame, contracts: pl.DataFrame, fits: pl.DataFrame,
                    settings: ClvSettings) -> pl.DataFrame:
    """One row per customer of `summary` (a single metric's), in VALUES_SCHEMA."""
    name = settings.metric_name
    x, t_x, T = (summary[c].to_numpy().astype(np.float64) for c in ("frequency", "recency", "T"))
    n = summary.height
    purchases_params = converged_params(fits, name, "bgnbd")
    spend_params = converged_params(fits, name, "gamma_gamma")
    horizon = value.to_time_unit(settings.horizon_months, "months", settings.time_unit)
    month = value.to_time_unit(1, "months", settings.time_unit)
    empty = np.full(n, np.nan)
    p_alive = expected = spend = one_off = empty
    if purchases_params and n:
        p_alive = bgnbd.probability_alive(purchases_params, x, t_x, T)
        expected = value.discounted_expected_purchases(purchases_params, x, t_x, T, horizon, 0.0, horizon)
        if spend_params:
            spend = gamma_gamma.conditional_expected_spend(spend_params, x, summary["monetary_value"].to_numpy())
            rate = value.rate_per_period(settings.discount_rate, month, settings.time_unit)
            period = month if settings.discount_rate > 0 else horizon
            one_off = value.clv(purchases_params, x, t_x, T, spend, horizon, rate, period)
    frame = pl.DataFrame({
        "metric_name": [name] * n, "customer_key": summary["customer_key"], "p_alive": p_alive,
        "expected_purchases": expected, "expected_spend": spend, "one_off_value": one_off,
    }).with_columns(pl.col(pl.Float64).fill_nan(None))
    if not settings.contractual:
        return frame.with_columns(expected_renewals=pl.lit(None, pl.Float64), recurring_clv=pl.lit(None, pl.Float64),
                                  recurring_basis=pl.lit(None, pl.String),
                                  lifetime_value=pl.col("one_off_value")).select(list(VALUES_SCHEMA))
    recurring = _recurring(summary, contracts, converged_params(fits, name, "sbg"), settings)
    return (
        frame.join(recurring, on="customer_key", how="left")
        .with_columns(pl.col("expected_renewals", "recurring_clv").fill_null(0.0))
        .with_columns(lifetime_value=pl.col("one_off_value") + pl.col("recurring_clv"))
        .select(list(VALUES_SCHEMA))
    )


def _recurring(summary: pl.DataFrame, contracts: pl.DataFrame, params: dict[str, float] | None,
               settings: ClvSettings) -> pl.DataFrame:
    """customer_key, expected_renewals, recurring_clv, recurring_basis for customers with contracts."""
    active = contracts.filter(pl.col("is_active")).join(
        summary.select("customer_key", "tenure_days"), on="customer_key", how="inner")
    if params:
        stay, basis = contractual.sbg_stay(params, active["contracts"].to_numpy()), "sbg"
    else:
        age = active["tenure_days"].to_numpy() / contractual.MONTH_DAYS
        stay, basis = contractual.lifespan_stay(age, 12.0 * settings.lifespan_years), "lifespan"
    worth, renewals = contractual.recurring_value(
        active["active_monthly_cost"].to_numpy(), active["remaining_term_months"].to_numpy(),
        active["latest_term_months"].to_numpy(), stay, settings.horizon_months, settings.discount_rate)
    churned = contracts.filter(~pl.col("is_active")).select(
        "customer_key", expected_renewals=pl.lit(0.0), recurring_clv=pl.lit(0.0))
    return pl.concat([
        active.select("customer_key").with_columns(
            expected_renewals=pl.Series(renewals, dtype=pl.Float64), recurring_clv=pl.Series(worth, dtype=pl.Float64)),
        churned,
    ]).with_columns(recurring_basis=pl.lit(basis))


def fits_table(settings: list[ClvSettings], summary: pl.DataFrame, contracts: pl.DataFrame) -> pl.DataFrame:
    """int_clv__model_fits: every metric's fits, in FITS_SCHEMA."""
    frames = [pl.DataFrame(schema=FITS_SCHEMA)]
    for s in settings:
        own = for_metric(summary, s.metric_name)
        end = own["observation_end"].max() if own.height else None
        frames.append(fits_frame(fit_models(own, for_metric(contracts, s.metric_name), s), s, end))
    return pl.concat(frames)


def values_table(settings: list[ClvSettings], summary: pl.DataFrame, contracts: pl.DataFrame,
                 fits: pl.DataFrame) -> pl.DataFrame:
    """int_clv__customer_values: every metric's customer values, in VALUES_SCHEMA."""
    frames = [pl.DataFrame(schema=VALUES_SCHEMA)]
    for s in settings:
        own = for_metric(summary, s.metric_name)
        frames.append(customer_values(own, for_metric(contracts, s.metric_name), fits, s))
    return pl.concat(frames)
