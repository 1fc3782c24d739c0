"""BG/NBD model (Fader, Hardie and Lee 2005, "Counting your customers the easy way").

Inputs per customer, all in one time unit (days or weeks, see `summary`): x = repeat purchase
periods, t_x = age at last purchase (0 when x = 0), T = age at the end of observation. Fitting uses
*every* customer: one-time buyers (x = 0) carry most of the information on who is still alive,
and dropping them (as the reference did, weakness 5) biases the dropout parameters.
Parameters are {"r", "alpha", "a", "b"}; alpha has the model's time unit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, gammaln, hyp2f1

from python_udfs.clv.fit import FitResult, group_rows, maximize_log_likelihood

PARAM_NAMES = ("r", "alpha", "a", "b")


def _unpack(params: Mapping[str, float]) -> tuple[float, float, float, float]:
    return params["r"], params["alpha"], params["a"], params["b"]


def _terms(r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray):
    """Eq. 6 split as log L = shared + logaddexp(alive, dead); returns (shared, alive, dead).

    L = B(a,b+x)/B(a,b) * G(r+x) alpha^r / (G(r)(alpha+T)^(r+x))
        + [x>0] B(a+1,b+x-1)/B(a,b) * G(r+x) alpha^r / (G(r)(alpha+t_x)^(r+x)),
    and B(a+1,b+x-1)/B(a,b+x) = a/(b+x-1), so both addends share G(r+x) alpha^r B(a,b+x) / (G(r) B(a,b)).
    """
    shared = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    alive = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # x = 0: no "dropped out after the last repeat purchase" term (log 0).
    dead = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return shared, alive, dead


def log_likelihood(params: Mapping[str, float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Per-customer log-likelihood, eq. 6 in log form (constants included, as in the paper's LL)."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    shared, alive, dead = _terms(*_unpack(params), x, t_x, T)
    return shared + np.logaddexp(alive, dead)


def _objective(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray):
    """Mean negative LL and its analytic gradient in log-parameters (weights w per distinct row).

    With log L = shared + log(e^alive + e^dead), each derivative of the two branches is weighted by
    its share of L (p_alive, p_dead); p_dead = 0 for x = 0, so t_last = T there is a placeholder.
    """
    total = w.sum()
    repeat = x > 0
    t_last = np.where(repeat, t_x, T)

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(theta)
        shared, alive, dead = _terms(r, alpha, a, b, x, t_x, T)
        mix = np.logaddexp(alive, dead)
        p_alive = np.exp(alive - mix)
        p_dead = 1.0 - p_alive
        d_r = (digamma(r + x) - digamma(r) + np.log(alpha)
               - p_alive * np.log(alpha + T) - p_dead * np.log(alpha + t_last))
        d_alpha = r / alpha - (r + x) * (p_alive / (alpha + T) + p_dead / (alpha + t_last))
        common = digamma(a + b) - digamma(a + b + x)
        d_a = common + p_dead / a
        d_b = common + digamma(b + x) - digamma(b) - p_dead / np.where(repeat, b + x - 1, 1.0)
        grad = np.array([w @ d_r * r, w @ d_alpha * alpha, w @ d_a * a, w @ d_b * b])
        return -(w @ (shared + mix)) / total, -grad / total

    return f


def fit(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    start: Mapping[str, float] | None = None,
) -> FitResult:
    """MLE of (r, alpha, a, b) over all customers, eq. 7 (sum of eq. 6 over customers).

    Identical (x, t_x, T) rows are evaluated once with their count as weight; `weights` lets a
    caller pass an already grouped summary (e.g. a SQL GROUP BY with counts).
    """
    cols = [np.asarray(v, dtype=np.float64) for v in (x, t_x, T)]
    (gx, gt, gT), w, _ = group_rows(cols, None if weights is None else np.asarray(weights))
    s = None if start is None else [start[n] for n in PARAM_NAMES]
    return maximize_log_likelihood("bgnbd", PARAM_NAMES, _objective(gx, gt, gT, w), w.sum(), s)


def _euler_tail(a: float, b: float, r: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z), computed as (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z).

    Euler's transformation (Abramowitz and Stegun 15.3.3) moves the large x from the numerator
    parameters, where 2F1 blows up and is then multiplied by a vanishing power, to the denominator
    parameter, where the series converges fast. Same value, no overflow for heavy buyers.
    """
    return (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)


def expected_purchases(params: Mapping[str, float], t: ArrayLike) -> np.ndarray:
    """E[X(t)]: expected repeat purchases of a new customer in (0, t], eq. 9.

    E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))].
    Undefined at exactly a = 1 (removable singularity; MLEs do not land there).
    """
    r, alpha, a, b = _unpack(params)
    t = np.asarray(t, dtype=np.float64)
    z = t / (alpha + t)
    return (a + b - 1.0) / (a - 1.0) * (1.0 - _euler_tail(a, b, r, np.zeros_like(t), z))


def probability_alive(params: Mapping[str, float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """P(alive at T | x, t_x, T) (Fader, Hardie and Lee 2008 note "Computing P(alive) using the BG/NBD").

    = 1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)): the share of eq. 6 contributed by the
    "still alive" branch; evaluated in log space so long-inactive heavy buyers give 0, not overflow.
    """
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    _, alive, dead = _terms(*_unpack(params), x, t_x, T)
    return np.exp(alive - np.logaddexp(alive, dead))


def conditional_expected_purchases(
    params: Mapping[str, float], t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] for a customer with history (x, t_x, T), eq. 10.

    = (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
      * P(alive); the 2F1 term goes through Euler's transformation (`_euler_tail`).
    """
    r, alpha, a, b = _unpack(params)
    t, x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (t, x, t_x, T))
    z = t / (alpha + T + t)
    scale = (a + b + x - 1.0) / (a - 1.0)
    return scale * (1.0 - _euler_tail(a, b, r, x, z)) * probability_alive(params, x, t_x, T)


def simulate(
    params: Mapping[str, float], T: ArrayLike, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw (x, t_x) for customers observed for T from the BG/NBD generative process (section 2).

    lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); purchases follow a Poisson(lambda) process from
    the first purchase at 0; after each *repeat* purchase the customer drops out with probability p.
    """
    r, alpha, a, b = _unpack(params)
    T = np.asarray(T, dtype=np.float64)
    n = len(T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n, dtype=np.int64)
    t_x = np.zeros(n)
    active = np.arange(n)  # customers still alive and inside their window
    with np.errstate(divide="ignore"):
        mean_gap = 1.0 / lam  # lambda may underflow to 0: never buys again
    while active.size:
        t_next = t_x[active] + rng.exponential(mean_gap[active])
        inside = t_next <= T[active]
        active, t_next = active[inside], t_next[inside]
        x[active] += 1
        t_x[active] = t_next
        active = active[rng.random(active.size) >= p[active]]
    return x, t_x
