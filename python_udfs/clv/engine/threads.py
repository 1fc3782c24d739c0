"""One thread per numeric library (OpenMP, BLAS) while the engine computes.

The engine's arrays are small (tens of thousands of rows, a handful of parameters), so threads only
add synchronisation, and dbt runs two models side by side on CI's two cores: with BLAS and OpenMP
threads competing, an L-BFGS fit ran three times slower and a gradient-boosting fit up to a hundred
times slower than on one thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from threadpoolctl import threadpool_limits

P = ParamSpec("P")
R = TypeVar("R")


def single_threaded(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1):
            return fn(*args, **kwargs)
    return wrapper
