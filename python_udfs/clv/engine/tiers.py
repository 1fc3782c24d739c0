"""Value tiers by absolute rank: the top 1% of customers by predicted value, then the next 4%, ...

Shares are cumulative (0.01, 0.05, 0.10, 0.20 by default) of the customers ranked, so a tier's size
does not depend on how values are distributed (unlike value cut-offs). Ties in value are ranked by
customer key, so the same data always gives the same tiers.
"""

from __future__ import annotations

import numpy as np


def rank_by_value(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """1 = highest value; equal values in key order."""
    order = np.lexsort((keys, -np.asarray(values, dtype=np.float64)))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    return rank


def tier_labels(rank: np.ndarray, shares: tuple[float, ...], labels: tuple[str, ...]) -> np.ndarray:
    """Label of the first cumulative share covering the rank (rank <= share x n), else the last label.

    The bounds are rounded to 9 decimals, so 0.29 x 100 counts as 29 and not 28.999999999999996.
    """
    bounds = np.round(np.asarray(shares) * len(rank), 9)
    return np.asarray(labels, dtype=object)[np.searchsorted(bounds, rank, side="left")]
