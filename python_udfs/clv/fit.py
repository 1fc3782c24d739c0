"""Maximum-likelihood driver shared by the BG/NBD, Gamma-Gamma and sBG models.

Every model parameter is positive, so the optimiser works on log-parameters: the problem is then
unconstrained (bounds only keep exp() finite) and much better scaled. Models pass the *mean*
negative log-likelihood over customers and its gradient, so tolerances mean the same thing for
2,000 or 1,000,000 customers. Customers with identical inputs contribute identical terms, so
models evaluate each distinct input once with a weight (`group_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

# exp(+-30) ~ 1e13 / 1e-13: far beyond any sensible parameter, still finite in every formula.
LOG_BOUND = 30.0
# L-BFGS-B can stop with a failed line search once the objective is flat to rounding; a gradient
# (of the mean LL per log-parameter) this small is still an optimum.
GRADIENT_TOL = 1e-6

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class FitResult:
    """Outcome of one MLE fit. `log_likelihood` is the full (constants included) weighted sum."""

    model: str
    params: dict[str, float]
    log_likelihood: float
    converged: bool
    iterations: int
    message: str
    n_customers: int


def group_rows(
    columns: Sequence[np.ndarray], weights: np.ndarray | None = None
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of `columns` with summed weights (default 1 per row) and the inverse index.

    Returns (distinct columns, weight per distinct row, index of each input row's distinct row).
    """
    n = len(columns[0])
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    order = np.lexsort(columns[::-1])
    sorted_cols = [np.asarray(c)[order] for c in columns]
    new = np.ones(n, dtype=bool)
    if n:
        new[1:] = np.logical_or.reduce([c[1:] != c[:-1] for c in sorted_cols])
    group_sorted = np.cumsum(new) - 1
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = group_sorted
    distinct = [c[new] for c in sorted_cols]
    return distinct, np.bincount(inverse, weights=w, minlength=len(distinct[0])), inverse


def maximize_log_likelihood(
    model: str,
    names: Sequence[str],
    objective: Objective,
    total_weight: float,
    start: Sequence[float] | None = None,
) -> FitResult:
    """Minimise `objective` (mean negative LL and gradient in log-parameters) with L-BFGS-B.

    `start` is in natural units (default 1 for every parameter).
    """
    theta0 = np.log(np.asarray(start, dtype=np.float64)) if start is not None else np.zeros(len(names))
    res = minimize(
        objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * len(names),
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-8},
    )
    at_bound = np.abs(res.x) >= LOG_BOUND - 1e-6
    stationary = bool(res.success) or float(np.max(np.abs(res.jac))) < GRADIENT_TOL
    message = str(res.message)
    if at_bound.any():
        message += "; at bound: " + ", ".join(n for n, b in zip(names, at_bound) if b)
    return FitResult(
        model=model,
        params={n: float(v) for n, v in zip(names, np.exp(res.x))},
        log_likelihood=float(-res.fun * total_weight),
        converged=stationary and not at_bound.any(),
        iterations=int(res.nit),
        message=message,
        n_customers=int(round(total_weight)),
    )
