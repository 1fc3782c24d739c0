"""A mergeable t-digest in numpy, built and merged for many groups at once.

Descriptive percentiles must merge across state rows and file groups (docs/metrics.md#descriptive: "within 1%
rank of the exact ones"), and DuckDB has no Python aggregates, so SQL builds one digest per group
from `list(x)` and merges lists of digests. Both steps therefore work on a whole batch of groups
in one vectorised pass (`build_groups`, `merge_groups`) rather than one Python loop per value.

Model. A digest is a sorted list of centroids (mean, weight), each either a *point* (every value
it holds equals its mean: ties and singletons) or *spread*, plus the exact min and max. Tied values
are folded into one point before compressing, and a centroid too heavy for one unit of the k1
scale stays on its own, so heavy ties and point masses are kept exactly. When every centroid is a
point (small groups, data with few distinct values) quantiles equal `numpy.quantile(..., 'linear')`
and the CDF equals the exact mid-rank ECDF.

Compression δ partitions k = δ/(2π)·(asin(2q−1) + π/2) ∈ [0, δ/2] into unit bins: centroids whose
rank interval lies inside one bin are pooled. This is order-free (a merge depends only on the
multiset of input centroids) and keeps at most ~δ/2 pooled centroids plus the heavy ones.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

VERSION = 1
DEFAULT_COMPRESSION = 500.0  # the reference's DataSketches k (spec §4.4)

# version, compression, number of centroids, min, max; then means, weights, packed point flags.
_HEADER = struct.Struct("<BdIdd")


@dataclass(frozen=True, eq=False)
class TDigest:
    """A non-empty digest; "no values" is represented by None, never by a phantom 0.0."""

    means: np.ndarray  # float64, non-decreasing
    weights: np.ndarray  # float64, whole counts >= 1
    points: np.ndarray  # bool: all values of the centroid equal its mean
    min: float
    max: float
    compression: float

    @property
    def count(self) -> float:
        return float(self.weights.sum())

    def quantiles(self, qs: ArrayLike) -> np.ndarray:
        """Quantiles with numpy's 'linear' convention: order-statistic position h = q·(n−1).

        Anchors in h: a point spans its ranks [start, end−1] at its value, a spread centroid sits
        at its central rank; min at 0 and max at n−1; linear in between.
        """
        q = np.asarray(qs, dtype=np.float64)
        if np.any((q < 0) | (q > 1)):
            raise ValueError("quantile levels must be in [0, 1]")
        start, end = self._ranks()
        centre = start + (self.weights - 1) / 2
        n = end[-1]
        xp = _anchors(0.0, np.where(self.points, start, centre), np.where(self.points, end - 1, centre), n - 1)
        fp = _anchors(self.min, self.means, self.means, self.max)
        out = np.interp(q * (n - 1), xp, fp)
        return np.where(q == 0, self.min, np.where(q == 1, self.max, out))

    def quantile(self, q: float) -> float:
        return float(self.quantiles(q))

    def cdfs(self, xs: ArrayLike) -> np.ndarray:
        """Mid-rank CDF, (#below + ½·#equal)/n, as the reference defines it (spec §4.4).

        #below is piecewise linear: a point jumps by its weight at its value, a spread centroid has
        half its weight below its mean; a constant sample gives 0.5 at its value.
        """
        x = np.asarray(xs, dtype=np.float64)
        xp, fp = self._below()
        below = (_interp_limit(x, xp, fp, "left") + _interp_limit(x, xp, fp, "right")) / 2
        out = np.where(x < self.min, 0.0, np.where(x > self.max, 1.0, below / fp[-1]))
        return np.where(np.isnan(x), np.nan, out)

    def cdf(self, x: float) -> float:
        return float(self.cdfs(x))

    def histogram(self, bins: int) -> tuple[np.ndarray, np.ndarray]:
        """`bins` equal-width bins on [min, max] (edges, share of count per bin); the last bin is
        closed, so shares sum to 1 and a point sitting on an edge belongs to the bin it starts."""
        if bins < 1:
            raise ValueError("bins must be >= 1")
        edges = np.linspace(self.min, self.max, bins + 1)
        xp, fp = self._below()
        below = _interp_limit(edges, xp, fp, "left")
        below[-1] = fp[-1]
        return edges, np.diff(below) / fp[-1]

    def _ranks(self) -> tuple[np.ndarray, np.ndarray]:
        """Each centroid's rank interval [start, end) in the sorted sample."""
        end = np.cumsum(self.weights)
        return end - self.weights, end

    def _below(self) -> tuple[np.ndarray, np.ndarray]:
        """Anchors (value, #values below) of the piecewise-linear count-below function."""
        start, end = self._ranks()
        half = start + self.weights / 2
        fp = _anchors(0.0, np.where(self.points, start, half), np.where(self.points, end, half), end[-1])
        return _anchors(self.min, self.means, self.means, self.max), fp

    def to_bytes(self) -> bytes:
        header = _HEADER.pack(VERSION, self.compression, len(self.means), self.min, self.max)
        body = (self.means.astype("<f8"), self.weights.astype("<f8"), np.packbits(self.points))
        return header + b"".join(part.tobytes() for part in body)

    @classmethod
    def from_bytes(cls, data: bytes) -> TDigest:
        if not data or data[0] != VERSION:
            raise ValueError(f"not a version-{VERSION} t-digest")
        _, compression, k, lo, hi = _HEADER.unpack_from(data)
        flags = (k + 7) // 8
        if len(data) != _HEADER.size + 16 * k + flags or k == 0:
            raise ValueError("corrupt t-digest bytes")
        means = np.frombuffer(data, "<f8", k, _HEADER.size)
        weights = np.frombuffer(data, "<f8", k, _HEADER.size + 8 * k)
        bits = np.frombuffer(data, np.uint8, flags, _HEADER.size + 16 * k)
        return cls(means, weights, np.unpackbits(bits, count=k).view(bool), lo, hi, compression)


def _anchors(first: float, lo: np.ndarray, hi: np.ndarray, last: float) -> np.ndarray:
    """first, then (lo_i, hi_i) for each centroid, then last."""
    out = np.empty(2 * len(lo) + 2)
    out[0], out[1:-1:2], out[2:-1:2], out[-1] = first, lo, hi, last
    return out


def _interp_limit(x: np.ndarray, xp: np.ndarray, fp: np.ndarray, side: str) -> np.ndarray:
    """Left or right limit at x of the piecewise-linear function through (xp, fp); repeated xp
    are jumps, which np.interp does not resolve."""
    i = np.clip(np.searchsorted(xp, x, side), 1, len(xp) - 1)
    x0, x1, f0, f1 = xp[i - 1], xp[i], fp[i - 1], fp[i]
    width = x1 - x0
    t = np.clip(np.divide(x - x0, width, out=np.zeros_like(width), where=width > 0), 0, 1)
    return f0 + t * (f1 - f0)


def build(values: ArrayLike, compression: float = DEFAULT_COMPRESSION) -> TDigest | None:
    """Digest of `values` (NaN ignored); None when there is nothing to digest."""
    x = np.asarray(values, dtype=np.float64).ravel()
    return build_groups(x, np.zeros(len(x), np.int64), 1, compression)[0]


def merge(digests: Sequence[TDigest | None]) -> TDigest | None:
    """One digest of everything in `digests` (None entries skipped); None if nothing is left."""
    present = [d for d in digests if d is not None]
    return merge_groups(present, np.zeros(len(present), np.int64), 1)[0]


def build_groups(
    values: np.ndarray, groups: np.ndarray, n_groups: int, compression: float = DEFAULT_COMPRESSION
) -> list[TDigest | None]:
    """One digest per group id in [0, n_groups) from values labelled by `groups`; NaN ignored."""
    keep = ~np.isnan(values)
    x, g = values[keep], groups[keep].astype(np.int64)
    mins, maxs = np.full(n_groups, np.inf), np.full(n_groups, -np.inf)
    np.minimum.at(mins, g, x)
    np.maximum.at(maxs, g, x)
    delta = np.full(n_groups, float(compression))
    return _split(_compress(g, x, np.ones(len(x)), np.ones(len(x), bool), delta), mins, maxs, delta)


def merge_groups(digests: Sequence[TDigest], groups: np.ndarray, n_groups: int) -> list[TDigest | None]:
    """One digest per group id from digests labelled by `groups`; a group with none gets None.

    The merged compression is the largest among a group's inputs.
    """
    g = np.asarray(groups, np.int64)
    mins, maxs = np.full(n_groups, np.inf), np.full(n_groups, -np.inf)
    compression = np.zeros(n_groups)
    np.minimum.at(mins, g, [d.min for d in digests])
    np.maximum.at(maxs, g, [d.max for d in digests])
    np.maximum.at(compression, g, [d.compression for d in digests])
    sizes = [len(d.means) for d in digests]
    centroids = _compress(
        np.repeat(g, sizes),
        np.concatenate([d.means for d in digests] or [np.empty(0)]),
        np.concatenate([d.weights for d in digests] or [np.empty(0)]),
        np.concatenate([d.points for d in digests] or [np.empty(0, bool)]),
        compression,
    )
    return _split(centroids, mins, maxs, compression)


_Centroids = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # groups, means, weights, points


def _compress(
    groups: np.ndarray, means: np.ndarray, weights: np.ndarray, points: np.ndarray, compression: np.ndarray
) -> _Centroids:
    """Sort centroids by (group, mean), fold equal points, pool those sharing a unit k-bin."""
    # points after spreads of equal mean (so equal points are adjacent), weight to make ties deterministic
    order = np.lexsort((weights, points, means, groups))
    groups, means, weights, points = groups[order], means[order], weights[order], points[order]

    same = np.zeros(len(means), bool)
    same[1:] = (groups[1:] == groups[:-1]) & (means[1:] == means[:-1]) & points[1:] & points[:-1]
    groups, means, weights, points = _pool(~same, groups, means, weights, points)

    end = np.cumsum(weights)
    first = np.ones(len(groups), bool)
    first[1:] = groups[1:] != groups[:-1]
    offset = np.maximum.accumulate(np.where(first, end - weights, 0.0))  # weight before the group
    total = np.zeros(len(compression))
    np.add.at(total, groups, weights)
    delta = compression[groups]
    k_lo = _k1((end - weights - offset) / total[groups], delta)
    k_hi = _k1((end - offset) / total[groups], delta)
    bin_ = np.floor(k_lo)
    fits = k_hi <= bin_ + 1 + 1e-9
    start = first.copy()
    start[1:] |= ~(fits[1:] & fits[:-1] & (bin_[1:] == bin_[:-1]))
    return _pool(start, groups, means, weights, points)


def _k1(q: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """The k1 scale, fine in both tails (where percentiles like p95 live), mapped onto [0, δ/2]."""
    return delta / (2 * np.pi) * (np.arcsin(np.clip(2 * q - 1, -1, 1)) + np.pi / 2)


def _pool(
    start: np.ndarray, groups: np.ndarray, means: np.ndarray, weights: np.ndarray, points: np.ndarray
) -> _Centroids:
    """Merge each run of sorted centroids beginning at a `start` flag into one centroid."""
    idx = np.flatnonzero(start)
    if len(idx) == len(means):
        return groups, means, weights, points
    last = np.append(idx[1:], len(means)) - 1
    w = np.add.reduceat(weights, idx)
    # A single input keeps its exact mean; a pooled mean is clipped so rounding cannot unsort it.
    pooled = np.clip(np.add.reduceat(weights * means, idx) / w, means[idx], means[last])
    single = idx == last
    point = np.logical_and.reduceat(points, idx) & (means[idx] == means[last])
    return groups[idx], np.where(single, means[idx], pooled), w, point


def _split(
    centroids: _Centroids, mins: np.ndarray, maxs: np.ndarray, compression: np.ndarray
) -> list[TDigest | None]:
    """One digest per group id from group-sorted centroids; None for a group without any."""
    groups, means, weights, points = centroids
    bounds = np.searchsorted(groups, np.arange(len(mins) + 1))
    return [
        TDigest(means[a:b], weights[a:b], points[a:b], float(mins[i]), float(maxs[i]), float(compression[i]))
        if b > a
        else None
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))
    ]
