"""Behavioural clusters: k-means on standardised recency, frequency and spend, ranked by value.

Inputs per customer are inactivity (time since the last purchase), log(1 + frequency) and
log(1 + spend per period); logs because both are heavy-tailed and k-means would otherwise spend its
clusters on a few extreme buyers. Standardised so no unit dominates. Clusters are numbered by the
median predicted value of their customers (1 = most valuable; the median because a few large
predictions should not promote a cluster), which keeps the numbering meaningful and stable across
runs where k-means' own labels are arbitrary. The CLV index is 100 x the cluster median over the
median of all clustered customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.cluster import KMeans


@dataclass(frozen=True)
class Clusters:
    cluster: np.ndarray  # 1..k per customer, by median predicted value
    clv_index: np.ndarray  # per customer, their cluster's index


def rfm_matrix(features: pl.DataFrame) -> np.ndarray:
    """Standardised (inactivity, log1p frequency, log1p spend per period), one row per customer."""
    X = np.column_stack([
        features["inactivity"].to_numpy().astype(np.float64),
        np.log1p(features["frequency"].to_numpy().astype(np.float64)),
        np.log1p(np.clip(features["avg_period_spend"].to_numpy().astype(np.float64), 0.0, None)),
    ])
    scale = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)


def cluster_customers(features: pl.DataFrame, predicted: np.ndarray, k: int, seed: int) -> Clusters:
    """k clusters (fewer when there are fewer distinct customers) ranked by median predicted value."""
    X = rfm_matrix(features)
    k = min(k, len(np.unique(X, axis=0)))
    raw = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(X) if k > 1 else np.zeros(len(X), int)
    medians = np.array([np.median(predicted[raw == c]) for c in range(k)])
    means = np.array([np.mean(predicted[raw == c]) for c in range(k)])
    order = np.lexsort((np.arange(k), -means, -medians))  # median first, then mean, then k-means label
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(1, k + 1)
    overall = float(np.median(predicted))
    index = 100.0 * medians / overall if overall > 0 else np.full(k, np.nan)
    return Clusters(cluster=rank[raw], clv_index=index[raw])
