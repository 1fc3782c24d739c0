"""CLV model math: published CDNOW fits, hand/numerical checks, parameter recovery."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import exprel, hyp2f1

from python_udfs.clv import bgnbd, gamma_gamma, sbg, summary, value

CDNOW = Path(__file__).parent / "data" / "CDNOW_sample.txt"
# Fader, Hardie and Lee (2005), table/text; Fader and Hardie (2013) Gamma-Gamma note.
BGNBD_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
BGNBD_PUBLISHED_LL = -9582.4
GG_PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow() -> summary.RFMSummary:
    """CDNOW calibration period (to 1997-09-30 inclusive), weeks, same-day purchases merged."""
    raw = np.loadtxt(CDNOW, dtype=str)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    return summary.summarize(raw[:, 0].astype(int), dates, raw[:, 4].astype(float), "1997-09-30", "weeks")


# --- summary -------------------------------------------------------------------------------------


def test_summary_hand_made_transactions():
    rows = [
        ("A", "2024-01-01", 10.0),
        ("A", "2024-01-01", 5.0),  # same day as above: one period, spend 15 (first, not a repeat)
        ("A", "2024-01-08", 20.0),
        ("A", "2024-01-22", 12.0),
        ("A", "2024-01-22", 18.0),  # same day: repeat period of 30
        ("A", "2024-02-05", 99.0),  # after the observation end: ignored
        ("B", "2024-01-15", 7.0),  # one-time buyer
        ("C", "2024-01-10", 3.0),
        ("C", "2024-01-10", 4.0),  # two orders, one day: still a one-time buyer
        ("D", "2024-02-01", 1.0),  # first purchase after the end: not a customer yet
    ]
    ids, dates, spend = zip(*rows)
    s = summary.summarize(ids, dates, spend, "2024-01-29", "weeks")
    assert list(s.customer_id) == ["A", "B", "C"]
    assert list(s.frequency) == [2, 0, 0]
    np.testing.assert_allclose(s.recency, [3.0, 0.0, 0.0])
    np.testing.assert_allclose(s.T, [4.0, 2.0, 19 / 7])
    assert s.monetary_value[0] == pytest.approx(25.0)  # (20 + 30) / 2, first-day 15 excluded
    assert np.isnan(s.monetary_value[1:]).all()

    days = summary.summarize(ids, dates, spend, "2024-01-29", "days")
    np.testing.assert_allclose(days.recency, [21.0, 0.0, 0.0])
    np.testing.assert_allclose(days.T, [28.0, 14.0, 19.0])


def test_summary_rejects_unknown_time_unit():
    with pytest.raises(ValueError, match="time_unit"):
        summary.summarize(["A"], ["2024-01-01"], [1.0], "2024-01-02", "months")


def test_cdnow_summary_counts(cdnow):
    assert len(cdnow.customer_id) == 2357
    assert (cdnow.frequency == 0).sum() == 1411  # FHL 2005: 1,411 made no repeat purchase
    assert cdnow.T.max() == pytest.approx(272 / 7)  # 1997-01-01 .. 1997-09-30


# --- BG/NBD and Gamma-Gamma on CDNOW -------------------------------------------------------------


def test_bgnbd_cdnow_matches_published(cdnow):
    fit = bgnbd.fit(cdnow.frequency, cdnow.recency, cdnow.T)
    assert fit.converged, fit.message
    assert fit.n_customers == 2357
    for name, published in BGNBD_PUBLISHED.items():
        assert fit.params[name] == pytest.approx(published, rel=0.01), name
    assert fit.log_likelihood == pytest.approx(BGNBD_PUBLISHED_LL, abs=0.1)
    # The published LL is the plain sum of eq. 6 (constants included) at the published params.
    ll = bgnbd.log_likelihood(BGNBD_PUBLISHED, cdnow.frequency, cdnow.recency, cdnow.T).sum()
    assert ll == pytest.approx(BGNBD_PUBLISHED_LL, abs=0.1)


def test_bgnbd_grouping_and_weights_do_not_change_the_fit(cdnow):
    x, t_x, T = cdnow.frequency, cdnow.recency, cdnow.T
    doubled = bgnbd.fit(np.tile(x, 2), np.tile(t_x, 2), np.tile(T, 2))
    weighted = bgnbd.fit(x, t_x, T, weights=np.full(len(x), 2.0))
    single = bgnbd.fit(x, t_x, T)
    for fit in (doubled, weighted):
        assert fit.n_customers == 2 * 2357
        assert fit.log_likelihood == pytest.approx(2 * single.log_likelihood, rel=1e-9)
        for name in bgnbd.PARAM_NAMES:
            assert fit.params[name] == pytest.approx(single.params[name], rel=1e-5)


def test_gamma_gamma_cdnow_matches_published(cdnow):
    repeat = cdnow.frequency > 0
    assert repeat.sum() == 946
    fit = gamma_gamma.fit(cdnow.frequency[repeat], cdnow.monetary_value[repeat])
    assert fit.converged, fit.message
    for name, published in GG_PUBLISHED.items():
        assert fit.params[name] == pytest.approx(published, rel=0.02), name


def test_gamma_gamma_conditional_spend_is_credibility_weighted():
    params = {"p": 6.25, "q": 3.74, "v": 15.44}
    population = 6.25 * 15.44 / 2.74
    spend = gamma_gamma.conditional_expected_spend(params, [0, 1, 10, 10_000], [np.nan, 40.0, 40.0, 40.0])
    assert spend[0] == pytest.approx(population)
    # weight on the customer's own mean: p x / (p x + q - 1)
    w = 6.25 / (6.25 + 2.74)
    assert spend[1] == pytest.approx(w * 40.0 + (1 - w) * population)
    assert spend[3] == pytest.approx(40.0, rel=1e-3)
    with pytest.raises(ValueError):
        gamma_gamma.fit([0, 2], [np.nan, 10.0])


# --- BG/NBD formulas against direct numerical integration ----------------------------------------


def _by_integration(params, t, x, t_x, T):
    """E[Y(t) | x, t_x, T] and P(alive) by integrating over the (lambda, p) posterior directly.

    Uses only the individual-level model: likelihood (1-p)^x lam^x e^(-lam T) [alive] +
    p (1-p)^(x-1) lam^x e^(-lam t_x) [dropped out after the last purchase], and, if alive,
    E[purchases in t] = (1 - e^(-lam p t)) / p; priors Gamma(r, alpha) and Beta(a, b).
    """
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    rho = r + x

    def over_lambda(h):  # int lam^(rho-1) e^(-alpha lam) h(lam) dlam, with lam = v^(1/rho)
        f = lambda v: np.exp(-alpha * v ** (1 / rho)) * h(v ** (1 / rho))  # noqa: E731
        return quad(f, 0, np.inf, epsabs=0, epsrel=1e-10, limit=200)[0] / rho

    def over_p(g):  # int p^(a-1) (1-p)^(b-1) g(p) dp
        return quad(g, 0, 1, weight="alg", wvar=(a - 1, b - 1), epsabs=0, epsrel=1e-10, limit=200)[0]

    def alive(lam, p):
        return (1 - p) ** x * np.exp(-lam * T)

    def likelihood(lam, p):
        dead = p * (1 - p) ** (x - 1) * np.exp(-lam * t_x) if x > 0 else 0.0
        return alive(lam, p) + dead

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # (1 - e^(-lam p t)) / p = lam t exprel(-lam p t), finite at p = 0
        num = over_p(lambda p: over_lambda(lambda lam: alive(lam, p) * lam * t * exprel(-lam * p * t)))
        p_alive = over_p(lambda p: over_lambda(lambda lam: alive(lam, p)))
        den = over_p(lambda p: over_lambda(lambda lam: likelihood(lam, p)))
    return num / den, p_alive / den


@pytest.mark.parametrize(
    ("t", "x", "t_x", "T"),
    [(39.0, 0, 0.0, 38.86), (39.0, 2, 30.43, 38.86), (52.0, 7, 35.0, 38.0), (10.0, 0, 0.0, 0.0)],
)
def test_conditional_expectation_and_p_alive_match_integration(t, x, t_x, T):
    expected, p_alive = _by_integration(BGNBD_PUBLISHED, t, x, t_x, T)
    got = bgnbd.conditional_expected_purchases(BGNBD_PUBLISHED, t, x, t_x, T)
    assert got == pytest.approx(expected, rel=1e-7)
    assert bgnbd.probability_alive(BGNBD_PUBLISHED, x, t_x, T) == pytest.approx(p_alive, rel=1e-7)


def test_unconditional_expectation_is_the_new_customer_case():
    t = np.array([1.0, 10.0, 39.0, 78.0])
    expected = np.array([_by_integration(BGNBD_PUBLISHED, ti, 0, 0.0, 0.0)[0] for ti in t[:2]])
    np.testing.assert_allclose(bgnbd.expected_purchases(BGNBD_PUBLISHED, t[:2]), expected, rtol=1e-7)
    np.testing.assert_allclose(
        bgnbd.expected_purchases(BGNBD_PUBLISHED, t),
        bgnbd.conditional_expected_purchases(BGNBD_PUBLISHED, t, 0, 0.0, 0.0),
        rtol=1e-12,
    )


def test_euler_form_equals_eq10_and_stays_finite_for_heavy_buyers():
    r, alpha, a, b = BGNBD_PUBLISHED.values()
    x, t_x, T, t = np.array([1.0, 5.0, 20.0, 400.0]), np.array([3.0, 20.0, 30.0, 38.0]), 38.86, 52.0
    z = t / (alpha + T + t)
    literal = (a + b + x - 1) / (a - 1) * (1 - (1 - z) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    literal *= bgnbd.probability_alive(BGNBD_PUBLISHED, x, t_x, T)
    got = bgnbd.conditional_expected_purchases(BGNBD_PUBLISHED, t, x, t_x, T)
    np.testing.assert_allclose(got, literal, rtol=1e-9)

    # x = 1000: eq. 10 as printed overflows (2F1 = inf, times 0 -> nan); the Euler form does not.
    with np.errstate(invalid="ignore"):
        assert np.isnan((1 - z) ** (r + 1000) * hyp2f1(r + 1000, b + 1000, a + b + 999, z))
    heavy = bgnbd.conditional_expected_purchases(BGNBD_PUBLISHED, t, [1000, 1000], [T, 2.0], T)
    rate_times_t = 1000 / T * t
    assert 0.5 * rate_times_t < heavy[0] < rate_times_t  # just bought: many, fewer than at her rate
    assert heavy[1] == pytest.approx(0.0, abs=1e-12)  # silent for 37 weeks: gone


# --- BG/NBD parameter recovery -------------------------------------------------------------------


def test_bgnbd_recovers_simulated_parameters():
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    rng = np.random.default_rng(20240101)
    T = rng.uniform(26.0, 52.0, 20_000)
    x, t_x = bgnbd.simulate(truth, T, rng)
    fit = bgnbd.fit(x, t_x, T)
    assert fit.converged, fit.message
    assert fit.params["r"] == pytest.approx(truth["r"], rel=0.05)
    assert fit.params["alpha"] == pytest.approx(truth["alpha"], rel=0.05)
    # a and b are strongly correlated (20k customers pin down a/(a+b) far better than each)
    mean_dropout = fit.params["a"] / (fit.params["a"] + fit.params["b"])
    assert mean_dropout == pytest.approx(0.8 / 3.3, rel=0.05)
    assert fit.params["a"] == pytest.approx(truth["a"], rel=0.25)
    assert fit.params["b"] == pytest.approx(truth["b"], rel=0.25)


# --- CLV over a horizon --------------------------------------------------------------------------


def test_discounted_clv_three_periods_by_hand():
    x, t_x, T = np.array([0, 3]), np.array([0.0, 20.0]), np.array([30.0, 38.0])
    e = [bgnbd.conditional_expected_purchases(BGNBD_PUBLISHED, k, x, t_x, T) for k in (1.0, 2.0, 3.0)]
    spend = np.array([35.0, 50.0])
    by_hand = spend * (e[0] / 1.1 + (e[1] - e[0]) / 1.1**2 + (e[2] - e[1]) / 1.1**3)
    got = value.clv(BGNBD_PUBLISHED, x, t_x, T, spend, horizon=3.0, discount_rate=0.1)
    np.testing.assert_allclose(got, by_hand, rtol=1e-12)
    # Undiscounted, the per-period sum telescopes to E[Y(3)].
    undiscounted = value.clv(BGNBD_PUBLISHED, x, t_x, T, spend, horizon=3.0)
    np.testing.assert_allclose(undiscounted, spend * e[2], rtol=1e-12)
    # Periods of 2 units over 6: three discounted steps at 2, 4, 6.
    e2 = [bgnbd.conditional_expected_purchases(BGNBD_PUBLISHED, k, x, t_x, T) for k in (2.0, 4.0, 6.0)]
    by_hand2 = e2[0] / 1.1 + (e2[1] - e2[0]) / 1.1**2 + (e2[2] - e2[1]) / 1.1**3
    got2 = value.discounted_expected_purchases(
        BGNBD_PUBLISHED, x, t_x, T, horizon=6.0, discount_rate=0.1, period=2.0
    )
    np.testing.assert_allclose(got2, by_hand2, rtol=1e-12)
    with pytest.raises(ValueError, match="whole number"):
        value.clv(BGNBD_PUBLISHED, x, t_x, T, spend, horizon=5.0, period=2.0)


def test_time_unit_helpers():
    assert value.to_time_unit(1, "years", "weeks") == pytest.approx(365.25 / 7)
    assert value.to_time_unit(6, "months", "days") == pytest.approx(182.625)
    assert value.to_time_unit(2, "weeks", "days") == 14.0
    weekly = value.rate_per_period(0.10, 1.0, "weeks")
    assert (1 + weekly) ** (365.25 / 7) == pytest.approx(1.10)
    with pytest.raises(ValueError):
        value.to_time_unit(1, "fortnights", "days")


# --- sBG ---------------------------------------------------------------------------------------


def test_sbg_survival_by_hand():
    params = {"alpha": 1.0, "beta": 2.0}
    # S(t) = prod_{i=1..t} (beta+i-1)/(alpha+beta+i-1): 2/3, 2/3 * 3/4, 1/2 * 4/5
    np.testing.assert_allclose(sbg.survival(params, [0, 1, 2, 3]), [1.0, 2 / 3, 1 / 2, 2 / 5])
    np.testing.assert_allclose(sbg.churn_probability(params, [1, 2, 3]), [1 / 3, 1 / 6, 1 / 10])
    np.testing.assert_allclose(sbg.retention_rate(params, [1, 2, 3]), [2 / 3, 3 / 4, 4 / 5])
    other = {"alpha": 0.7, "beta": 1.2}
    assert sbg.survival(other, 1) == pytest.approx(1.2 / 1.9)  # S(1) = beta / (alpha + beta)


def test_sbg_fit_matches_fader_hardie_2007():
    regular = sbg.fit_survival_counts([1000, 631, 468, 382, 326, 289, 262, 241])
    high_end = sbg.fit_survival_counts([1000, 869, 743, 653, 593, 551, 517, 491])
    assert regular.converged and high_end.converged
    assert regular.params["alpha"] == pytest.approx(0.704, rel=0.002)
    assert regular.params["beta"] == pytest.approx(1.182, rel=0.002)
    assert high_end.params["alpha"] == pytest.approx(0.668, rel=0.002)
    assert high_end.params["beta"] == pytest.approx(3.806, rel=0.002)


def test_sbg_per_customer_rows_with_censoring():
    # Counts and the equivalent per-customer rows (churners at 1..3; 50 active in period 4) agree.
    counts = sbg.fit_survival_counts([200, 120, 80, 50])
    periods = np.repeat([1, 2, 3, 4], [80, 40, 30, 50])
    churned = np.repeat([True, True, True, False], [80, 40, 30, 50])
    rows = sbg.fit(periods, churned)
    assert rows.params == pytest.approx(counts.params, rel=1e-6)
    assert rows.log_likelihood == pytest.approx(counts.log_likelihood, rel=1e-9)

    # Recovery with staggered acquisition: customers have paid 1..8 periods by the observation date.
    rng = np.random.default_rng(7)
    n = 20_000
    theta = rng.beta(0.7, 1.2, n)
    lifetime = rng.geometric(theta)  # T: the period at whose end she leaves
    paid = rng.integers(1, 9, n)  # periods paid by the observation date (decisions seen: paid - 1)
    churned = lifetime < paid
    fit = sbg.fit(np.where(churned, lifetime, paid), churned)
    assert fit.params["alpha"] == pytest.approx(0.7, rel=0.1)
    assert fit.params["beta"] == pytest.approx(1.2, rel=0.1)


def test_derl_and_contractual_clv():
    params = {"alpha": 1.0, "beta": 2.0}
    d = 0.1
    # alpha = 1: S(t) = beta / (beta + t); DERL = sum_k S(n-1+k)/S(n-1) / (1+d)^(k-1)
    k = np.arange(1, 4000)
    for renewals in (0, 4):
        ratio = (2.0 + renewals) / (2.0 + renewals + k)
        assert sbg.derl(params, d, renewals) == pytest.approx(np.sum(ratio / (1 + d) ** (k - 1)), rel=1e-10)
    assert sbg.clv(params, 30.0, d, 0) == pytest.approx(30.0 * sbg.derl(params, d, 0))
    # Longer-tenured customers are better risks: DERL rises with renewals.
    assert sbg.derl(params, d, 4) > sbg.derl(params, d, 0)
    # Fixed lifespan fallback: 3 payments, first undiscounted.
    assert sbg.fixed_lifespan_clv(10.0, 3, 0.1) == pytest.approx(10 * (1 + 1 / 1.1 + 1 / 1.21))
