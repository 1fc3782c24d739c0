"""CLV prediction engine: windows, tiers, clusters, contractual value, training and drift, on
hand-made and generated data (no dbt: the marts' tests cover the models around these functions)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.special import beta as beta_fn

from python_udfs.clv.engine import cards, champion, clusters, contractual, drift, population, scoring, stored_models, tiers
from python_udfs.clv.engine.features import history_features, realised_value
from python_udfs.clv.engine.settings import ClvSettings
from python_udfs.clv.engine.windows import Window, add_months
from valuemarts.config.compiler import compile_config
from valuemarts.demo import generate_holdings

SHIFT = date(2023, 7, 1)  # behaviour changes here in the drift scenarios
SCORED = date(2023, 6, 30)  # the scoring cutoff just before it; its window matures on 2023-12-30


def settings(**overrides) -> ClvSettings:
    """A metric's settings as the compiler fills them from a minimal config (defaults elsewhere)."""
    raw = {"ih": {"file_type": "parquet"}, "holdings": {"file_type": "csv"},
           "metrics": {"global_filters": [], "clv": {"group_by": [], "customer_id_col": "CustomerID",
                                                      "grid_history_months": [12], **overrides}}}
    return ClvSettings.from_config(compile_config(raw, check_columns=False).dbt_vars["metrics"]["clv"])


def periods_of(holdings: pl.DataFrame) -> pl.DataFrame:
    """Purchase periods (customer, day, spend) of generated holdings, as mart_clv__purchase_periods has them."""
    return (holdings.select(customer_key=pl.col("CustomerID"),
                            purchase_date=pl.col("pyPurchasedDate").str.slice(0, 8).str.strptime(pl.Date, "%Y%m%d"),
                            spend=pl.col("OneTimeCost"))
            .group_by("customer_key", "purchase_date").agg(pl.col("spend").sum()))


# --- windows, tiers, clusters ---------------------------------------------------------------------


def test_calendar_months_clamp_to_month_end():
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2023, 6, 30), -6) == date(2022, 12, 30)
    assert add_months(date(2023, 11, 15), 3) == date(2024, 2, 15)
    window = Window(date(2024, 6, 30), 12, 6)
    assert (window.history_start, window.pred_end) == (date(2023, 6, 30), date(2024, 12, 30))
    assert window.pred_length("days") == 183 and window.matured(date(2024, 12, 30))
    assert not window.matured(date(2024, 12, 29))


def test_tiers_by_absolute_rank_on_generated_values():
    rng = np.random.default_rng(5)
    values = rng.gamma(0.5, 100.0, 1000)
    values[:50] = 0.0  # ties at the bottom are ranked by key
    keys = np.array([f"C{i:04d}" for i in range(1000)])
    rank = tiers.rank_by_value(values, keys)
    labels = tiers.tier_labels(rank, (0.01, 0.05, 0.10, 0.20), ("Top 1%", "Top 5%", "Top 10%", "Top 20%", "Others"))
    assert dict(zip(*np.unique(labels, return_counts=True))) == {
        "Top 1%": 10, "Top 5%": 40, "Top 10%": 50, "Top 20%": 100, "Others": 800}
    assert values[rank == 1][0] == values.max()
    top = np.sort(values)[::-1]
    assert values[labels == "Top 1%"].min() == top[9] and values[labels == "Top 5%"].max() == top[10]
    assert list(rank[:50]) == list(range(951, 1001))  # zero values: key order
    # a share whose bound is not exact in binary: 0.29 x 100 = 28.999999999999996
    assert list(tiers.tier_labels(np.arange(1, 101), (0.29,), ("top", "rest"))).count("top") == 29


def test_clusters_ranked_by_median_predicted_value():
    rng = np.random.default_rng(11)
    groups = []
    for inactivity, frequency, spend, value in ((2.0, 12, 400.0, 900.0), (30.0, 0, 90.0, 15.0),
                                                (10.0, 3, 150.0, 200.0), (50.0, 1, 1200.0, 60.0)):
        n = 150
        groups.append(pl.DataFrame({
            "inactivity": rng.normal(inactivity, 1.0, n).clip(0), "frequency": rng.poisson(frequency, n),
            "avg_period_spend": rng.normal(spend, spend / 20, n), "value": rng.normal(value, value / 10, n)}))
    features = pl.concat(groups)
    result = clusters.cluster_customers(features, features["value"].to_numpy(), k=4, seed=42)
    medians = [float(np.median(features["value"].to_numpy()[result.cluster == c])) for c in (1, 2, 3, 4)]
    assert medians == sorted(medians, reverse=True)
    # each generated group is one cluster, numbered by value: 900 -> 1, 200 -> 2, 60 -> 3, 15 -> 4
    assert [int(np.unique(result.cluster[i * 150:(i + 1) * 150])[0]) for i in range(4)] == [1, 4, 2, 3]
    overall = np.median(features["value"].to_numpy())
    assert result.clv_index[0] == pytest.approx(100 * medians[0] / overall)
    again = clusters.cluster_customers(features, features["value"].to_numpy(), k=4, seed=42)
    assert np.array_equal(again.cluster, result.cluster)
    few = clusters.cluster_customers(features.head(3).with_columns(pl.lit(1.0).alias("inactivity"),
                                                                   pl.lit(2).alias("frequency"),
                                                                   pl.lit(5.0).alias("avg_period_spend")),
                                     np.ones(3), k=4, seed=42)
    assert list(few.cluster) == [1, 1, 1]  # one distinct customer profile: one cluster


# --- contractual value: hand-computed -------------------------------------------------------------


def test_contractual_value_hand_computed_with_sbg():
    # alpha = beta = 1: S(t) = B(1, 1 + t) / B(1, 1) = 1 / (1 + t). A customer with one term paid
    # (n = 1), 0.5 months left of a 1-month term, 10 a month, 3-month horizon, no discount:
    # month 1 is renewal 1 (S(1)/S(0) = 1/2), month 2 renewal 2 (1/3), month 3 renewal 3 (1/4).
    params = {"alpha": 1.0, "beta": 1.0}
    value, renewals = contractual.recurring_value(
        [10.0], [0.5], [1.0], contractual.sbg_stay(params, np.array([1])), 3, 0.0)
    assert value[0] == pytest.approx(10 * (1 / 2 + 1 / 3 + 1 / 4))
    assert renewals[0] == pytest.approx(1 / 2 + 1 / 3 + 1 / 4)
    # Two terms paid, 2 months left of a 3-month term, 12-month horizon, 10% a year:
    # months 1-2 certain; 3-5 renewal 1 (S(2)/S(1) = 2/3), 6-8 renewal 2 (2/4), 9-11 renewal 3 (2/5),
    # 12 renewal 4 (2/6); month j discounted by 1.1^(-j/12).
    stay = [1, 1] + [2 / 3] * 3 + [2 / 4] * 3 + [2 / 5] * 3 + [2 / 6]
    expected = sum(10 * p * 1.1 ** (-j / 12) for j, p in enumerate(stay, start=1))
    value, renewals = contractual.recurring_value(
        [10.0], [2.0], [3.0], contractual.sbg_stay(params, np.array([2])), 12, 0.10)
    assert value[0] == pytest.approx(expected)
    assert renewals[0] == pytest.approx(2 / 3 + 2 / 4 + 2 / 5 + 2 / 6)
    # the general sBG survival agrees with the closed form for other parameters
    params = {"alpha": 0.7, "beta": 3.8}
    value, _ = contractual.recurring_value([1.0], [0.25], [1.0], contractual.sbg_stay(params, np.array([3])), 2, 0.0)
    survival = [beta_fn(0.7, 3.8 + t) / beta_fn(0.7, 3.8) for t in (2, 3, 4)]
    assert value[0] == pytest.approx(survival[1] / survival[0] + survival[2] / survival[0])


def test_contractual_value_falls_back_to_the_configured_lifespan():
    # No fitted sBG: a customer stays until her age reaches the lifespan. Age 22 months, lifespan 2
    # years: months 1-2 are paid (age 23, 24), then nothing; the running term ends after month 1.
    value, renewals = contractual.recurring_value(
        [5.0], [1.0], [12.0], contractual.lifespan_stay(np.array([22.0]), 24.0), 6, 0.0)
    assert value[0] == pytest.approx(10.0)
    assert renewals[0] == pytest.approx(1.0)


def test_customer_values_use_sbg_fit_or_lifespan():
    summary = pl.DataFrame({"metric_name": ["clv"] * 3, "customer_key": ["a", "b", "c"], "frequency": [0, 2, 1],
                            "recency": [0.0, 10.0, 4.0], "T": [20.0, 30.0, 12.0],
                            "monetary_value": [None, 50.0, 20.0], "tenure_days": [140, 210, 84]})
    contracts = pl.DataFrame({"metric_name": ["clv"] * 2, "customer_key": ["a", "b"], "contracts": [1, 2],
                              "is_active": [True, False], "active_monthly_cost": [10.0, 0.0],
                              "latest_term_months": [1.0, 12.0], "remaining_term_months": [0.5, 0.0]})
    s = settings(model="contractual", horizon_months=3)
    fits = pl.DataFrame([
        {"metric_name": "clv", "model": m, "parameter": k, "value": v, "converged": True}
        for m, params in (("bgnbd", {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}),
                          ("gamma_gamma", {"p": 6.25, "q": 3.74, "v": 15.44}), ("sbg", {"alpha": 1.0, "beta": 1.0}))
        for k, v in params.items()])
    values = population.customer_values(summary, contracts, fits, s).sort("customer_key")
    assert values["recurring_basis"].to_list() == ["sbg", "sbg", None]
    assert values["recurring_clv"].to_list() == pytest.approx([10 * (1 / 2 + 1 / 3 + 1 / 4), 0.0, 0.0])
    assert values["lifetime_value"].to_list() == pytest.approx(
        (values["one_off_value"] + values["recurring_clv"]).to_list())
    no_sbg = population.customer_values(summary, contracts, fits.filter(pl.col("model") != "sbg"), s)
    # lifespan 2000 years: customer a pays all 3 months
    assert no_sbg.filter(pl.col("customer_key") == "a")["recurring_clv"][0] == pytest.approx(30.0)


# --- training, cards, drift on generated holdings -------------------------------------------------


@pytest.fixture(scope="module")
def steady() -> pl.DataFrame:
    return periods_of(generate_holdings(seed=3, customers=4000, start=date(2020, 7, 1), end=date(2024, 1, 1)))


def scenario(factor: float) -> pl.DataFrame:
    """The steady customers, their behaviour (purchase rate and spend) times `factor` from SHIFT on."""
    return periods_of(generate_holdings(seed=3, customers=4000, start=date(2020, 7, 1), end=date(2024, 1, 1),
                                        shift_date=SHIFT, shift_factor=factor))


@pytest.fixture(scope="module")
def trained(steady):
    """The champion trained on data up to the scoring cutoff, as the build would train it."""
    s = settings(history_months=12, pred_months=6)
    model_cards, models = champion.train_champion(steady.filter(pl.col("purchase_date") <= SCORED), s, SCORED)
    return s, model_cards, models


def test_training_keeps_the_better_model_and_the_cards_describe_it(trained, steady, tmp_path):
    s, model_cards, models = trained
    assert [c.model_type for c in model_cards] == ["bgnbd_gamma_gamma", "gradient_boosting"]
    champion_card = next(c for c in model_cards if c.is_champion)
    assert champion_card.baseline_rmse == min(c.baseline_rmse for c in model_cards)
    assert champion_card.train_cutoff == add_months(SCORED, -6) and champion_card.data_end == SCORED
    assert champion_card.customers > 1000 and champion_card.grid[0]["history_months"] == 12
    cards.write_card_files(model_cards, tmp_path)
    stored = json.loads((tmp_path / f"{champion_card.model_id}.json").read_text())
    assert stored["baseline_rmse"] == champion_card.baseline_rmse and "model_state" not in stored
    # a stored card row predicts exactly as the model that was trained
    known = steady.filter(pl.col("purchase_date") <= SCORED)
    features = history_features(known, Window(SCORED, 12, 6), "weeks")
    for row, model in zip(stored_models.cards_frame(model_cards, models).iter_rows(named=True), models):
        np.testing.assert_array_equal(stored_models.load_model(row).predict(features, 26.0), model.predict(features, 26.0))
    again, _ = champion.train_champion(known, s, SCORED)
    assert [c.baseline_rmse for c in again] == [c.baseline_rmse for c in model_cards]  # deterministic


def drift_of(periods: pl.DataFrame, trained, tmp_path: Path) -> dict:
    """Score at SCORED with the champion, let the window mature, compare with the baseline."""
    s, model_cards, models = trained
    card = next(c for c in model_cards if c.is_champion)
    model = models[model_cards.index(card)]
    window = Window(SCORED, card.history_months, card.pred_months)
    predictions = scoring.score(periods.filter(pl.col("purchase_date") <= SCORED), model, card.model_id, window, s)
    actuals = (predictions.join(realised_value(periods, window), on="customer_key", how="left")
               .with_columns(pl.col("actual_value").fill_null(0.0)))
    result = drift.evaluate(actuals, stored_models.cards_frame(model_cards, models), s, tmp_path)
    assert result.height == 1
    return result.row(0, named=True)


def test_no_drift_when_behaviour_does_not_change(trained, tmp_path):
    row = drift_of(scenario(1.0), trained, tmp_path)
    assert not row["is_drift"], row
    assert abs(row["rmse_increase"]) < 0.2 and row["r2_decrease"] < 0.15
    assert list(tmp_path.iterdir()) == []


def test_drift_when_customers_buy_more_after_a_date(trained, tmp_path):
    row = drift_of(scenario(2.0), trained, tmp_path)
    assert row["is_drift"] and row["rmse_increase"] > 0.2, row
    alert = Path(row["alert_path"])
    assert alert.parent == tmp_path and alert.name == "clv_drift_clv_20230630.md"
    text = drift.write_alert(row, tmp_path).read_text()
    assert "# CLV model drift: clv, scoring cutoff 2023-06-30" in text and f"{row['rmse_increase']:+.1%}" in text


def test_drift_when_customers_buy_less_after_a_date(trained, tmp_path):
    row = drift_of(scenario(0.5), trained, tmp_path)
    assert row["is_drift"] and row["r2_decrease"] > 0.15, row


def test_scoring_covers_the_whole_base(trained, steady):
    s, model_cards, models = trained
    card = next(c for c in model_cards if c.is_champion)
    model = models[model_cards.index(card)]
    known = steady.filter(pl.col("purchase_date") <= SCORED)
    predictions = scoring.score(known, model, card.model_id, Window(SCORED, 12, 6), s)
    assert predictions.height == known["customer_key"].n_unique()
    unscored = predictions.filter(~pl.col("scored"))
    assert unscored.height > 0 and (unscored["predicted_value"] == 0).all() and unscored["cluster"].is_null().all()
    assert set(predictions.filter(pl.col("scored"))["cluster"].unique()) == {1, 2, 3, 4}
    assert predictions.filter(pl.col("value_tier") == "Top 1%").height == int(0.01 * predictions.height)
