"""SQL face of `python_udfs.tdigest`: digests as BLOBs, built and merged from lists.

DuckDB has no Python aggregates, so a digest is `tdigest_build(list(x))` per group and a merge is
`tdigest_merge(list(digest))`. Both are arrow UDFs that take a whole chunk of groups and hand it to
the vectorised batch functions; the readers (quantile, cdf, ...) are row-wise, as they run on
already-aggregated rows. NULL in gives NULL out, and so do empty or all-NULL lists (never a
phantom 0.0, spec §10 item 18).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from python_udfs.tdigest import TDigest, build_groups, merge_groups

_ARROW = {"type": "arrow", "null_handling": "special"}
_BIN = pa.struct([("lo", pa.float64()), ("hi", pa.float64()), ("mass", pa.float64())])


def _combined(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _blobs(digests: list[TDigest | None]) -> pa.Array:
    return pa.array([None if d is None else d.to_bytes() for d in digests], pa.binary())


def tdigest_build(lists: pa.ChunkedArray) -> pa.Array:
    """One digest per list of doubles; NULL and NaN elements are ignored."""
    lists = _combined(lists)
    values = pc.fill_null(pc.list_flatten(lists), np.nan).to_numpy(zero_copy_only=False)
    groups = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    return _blobs(build_groups(values.astype(np.float64), groups, len(lists)))


def tdigest_merge(lists: pa.ChunkedArray) -> pa.Array:
    """One digest per list of digests; NULL elements are skipped."""
    lists = _combined(lists)
    blobs = pc.list_flatten(lists).to_pylist()
    groups = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    present = [i for i, b in enumerate(blobs) if b is not None]
    digests = [TDigest.from_bytes(blobs[i]) for i in present]
    return _blobs(merge_groups(digests, groups[present], len(lists)))


def _rowwise(read: Callable[[TDigest, Any], Any], out_type: pa.DataType) -> Callable[..., pa.Array]:
    """An arrow UDF applying `read(digest, argument)` per row; NULL digest or argument → NULL."""

    def udf(blobs: pa.ChunkedArray, args: pa.ChunkedArray) -> pa.Array:
        return pa.array(
            [
                None if b is None or a is None else read(TDigest.from_bytes(b), a)
                for b, a in zip(blobs.to_pylist(), args.to_pylist())
            ],
            out_type,
        )

    return udf


def tdigest_count(blobs: pa.ChunkedArray) -> pa.Array:
    """Number of values digested."""
    return pa.array([None if b is None else TDigest.from_bytes(b).count for b in blobs.to_pylist()], pa.float64())


def _at_points(read: Callable[[TDigest, np.ndarray], np.ndarray]) -> Callable[[TDigest, list], list]:
    """`read` (quantiles or CDFs) at a list of points from one deserialised digest; a NULL point
    gives a NULL element."""

    def apply(digest: TDigest, points: list[float | None]) -> list[float | None]:
        values = np.array([np.nan if p is None else p for p in points], dtype=np.float64)
        known = ~np.isnan(values)
        out = np.full(len(values), np.nan)
        out[known] = read(digest, values[known])
        return [float(v) if k else None for v, k in zip(out, known)]

    return apply


def _histogram(digest: TDigest, bins: int) -> list[dict[str, float]]:
    edges, mass = digest.histogram(bins)
    return [{"lo": float(a), "hi": float(b), "mass": float(m)} for a, b, m in zip(edges[:-1], edges[1:], mass)]


tdigest_quantile = _rowwise(TDigest.quantile, pa.float64())
tdigest_quantiles = _rowwise(_at_points(TDigest.quantiles), pa.list_(pa.float64()))
tdigest_cdf = _rowwise(TDigest.cdf, pa.float64())
# A whole curve costs one call per digest, not one per point.
tdigest_cdfs = _rowwise(_at_points(TDigest.cdfs), pa.list_(pa.float64()))
tdigest_histogram = _rowwise(_histogram, pa.list_(_BIN))

UDFS = [
    ("tdigest_build", tdigest_build, ["DOUBLE[]"], "BLOB", _ARROW),
    ("tdigest_merge", tdigest_merge, ["BLOB[]"], "BLOB", _ARROW),
    ("tdigest_quantile", tdigest_quantile, ["BLOB", "DOUBLE"], "DOUBLE", _ARROW),
    ("tdigest_quantiles", tdigest_quantiles, ["BLOB", "DOUBLE[]"], "DOUBLE[]", _ARROW),
    ("tdigest_cdf", tdigest_cdf, ["BLOB", "DOUBLE"], "DOUBLE", _ARROW),
    ("tdigest_cdfs", tdigest_cdfs, ["BLOB", "DOUBLE[]"], "DOUBLE[]", _ARROW),
    ("tdigest_count", tdigest_count, ["BLOB"], "DOUBLE", _ARROW),
    ("tdigest_histogram", tdigest_histogram, ["BLOB", "INTEGER"], "STRUCT(lo DOUBLE, hi DOUBLE, mass DOUBLE)[]", _ARROW),
]
