"""The chunk-at-a-time t-digest UDFs against the per-row semantics they replaced.

The UDFs read, merge and write a whole arrow chunk of digests in numpy passes
(`python_udfs.tdigest.Digests`). The reference below is the previous per-row code, kept verbatim
in small: one `struct`-parsed digest at a time, np.interp for quantiles, a per-digest
searchsorted for CDFs, np.linspace for histogram edges, np.lexsort for the compression order.
Results must be bit for bit the same (signed zeros and NaN included), NULL handling too, on data
with ties, NaN and NULL values, NULL and empty lists, single-value groups and several chunks.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

import python_udfs
from python_udfs import tdigest as td

# Infinite values make inf - inf in the reference and in the UDFs alike (NaN results, as before).
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

# ---- the per-row reference ------------------------------------------------------------------

_HEADER = struct.Struct("<BdIdd")


def ref_from_bytes(data: bytes) -> td.TDigest:
    _, compression, k, lo, hi = _HEADER.unpack_from(data)
    assert data[0] == 1 and len(data) == _HEADER.size + 16 * k + (k + 7) // 8
    means = np.frombuffer(data, "<f8", k, _HEADER.size)
    weights = np.frombuffer(data, "<f8", k, _HEADER.size + 8 * k)
    bits = np.frombuffer(data, np.uint8, (k + 7) // 8, _HEADER.size + 16 * k)
    return td.TDigest(means, weights, np.unpackbits(bits, count=k).view(bool), lo, hi, compression)


def ref_to_bytes(d: td.TDigest) -> bytes:
    header = _HEADER.pack(1, d.compression, len(d.means), d.min, d.max)
    body = (d.means.astype("<f8"), d.weights.astype("<f8"), np.packbits(d.points))
    return header + b"".join(part.tobytes() for part in body)


def _anchors(first: float, lo: np.ndarray, hi: np.ndarray, last: float) -> np.ndarray:
    out = np.empty(2 * len(lo) + 2)
    out[0], out[1:-1:2], out[2:-1:2], out[-1] = first, lo, hi, last
    return out


def _interp_limit(x: np.ndarray, xp: np.ndarray, fp: np.ndarray, side: Any) -> np.ndarray:
    i = np.clip(np.searchsorted(xp, x, side), 1, len(xp) - 1)
    x0, x1, f0, f1 = xp[i - 1], xp[i], fp[i - 1], fp[i]
    width = x1 - x0
    t = np.clip(np.divide(x - x0, width, out=np.zeros_like(width), where=width > 0), 0, 1)
    return f0 + t * (f1 - f0)


def _below(d: td.TDigest) -> tuple[np.ndarray, np.ndarray]:
    end = np.cumsum(d.weights)
    start = end - d.weights
    half = start + d.weights / 2
    fp = _anchors(0.0, np.where(d.points, start, half), np.where(d.points, end, half), end[-1])
    return _anchors(d.min, d.means, d.means, d.max), fp


def ref_quantiles(d: td.TDigest, qs: Any) -> np.ndarray:
    q = np.asarray(qs, dtype=np.float64)
    if np.any((q < 0) | (q > 1)):
        raise ValueError("quantile levels must be in [0, 1]")
    end = np.cumsum(d.weights)
    start = end - d.weights
    centre = start + (d.weights - 1) / 2
    n = end[-1]
    xp = _anchors(0.0, np.where(d.points, start, centre), np.where(d.points, end - 1, centre), n - 1)
    out = np.interp(q * (n - 1), xp, _anchors(d.min, d.means, d.means, d.max))
    return np.where(q == 0, d.min, np.where(q == 1, d.max, out))


def ref_cdfs(d: td.TDigest, xs: Any) -> np.ndarray:
    x = np.asarray(xs, dtype=np.float64)
    xp, fp = _below(d)
    below = (_interp_limit(x, xp, fp, "left") + _interp_limit(x, xp, fp, "right")) / 2
    out = np.where(x < d.min, 0.0, np.where(x > d.max, 1.0, below / fp[-1]))
    return np.where(np.isnan(x), np.nan, out)


def ref_histogram(d: td.TDigest, bins: int) -> list[dict[str, float]]:
    edges = np.linspace(d.min, d.max, bins + 1)
    xp, fp = _below(d)
    below = _interp_limit(edges, xp, fp, "left")
    below[-1] = fp[-1]
    mass = np.diff(below) / fp[-1]
    return [{"lo": float(a), "hi": float(b), "mass": float(m)} for a, b, m in zip(edges[:-1], edges[1:], mass)]


def ref_at_points(read: Any, d: td.TDigest, points: list[float | None]) -> list[float | None]:
    values = np.array([np.nan if p is None else p for p in points], dtype=np.float64)
    known = ~np.isnan(values)
    out = np.full(len(values), np.nan)
    out[known] = read(d, values[known])
    return [float(v) if k else None for v, k in zip(out, known)]


def ref_sorted(groups: np.ndarray, means: np.ndarray, weights: np.ndarray, points: np.ndarray,
               n_groups: int) -> tuple[np.ndarray, ...]:
    order = np.lexsort((weights, points, means, groups))
    return groups[order], means[order], weights[order], points[order]


def same(a: Any, b: Any) -> bool:
    """Equal down to the bits of every float (so -0.0 != 0.0, NaN == NaN), recursively."""
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (a != a and b != b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


# ---- random rows ----------------------------------------------------------------------------


def random_values(rng: np.random.Generator) -> list[float | None] | None:
    """A list for tdigest_build: NULL, empty, all NULL/NaN, one value, ties, signed zeros, a
    point mass, an infinity, or a large spread list that the digest compresses."""
    kind = rng.integers(0, 10)
    if kind == 0:
        return None
    if kind == 1:
        return [] if rng.random() < 0.5 else [None, float("nan")][: rng.integers(1, 3)]
    if kind == 2:
        return [float(rng.normal())] * int(rng.integers(1, 4))
    n = int(rng.integers(2, 40)) if kind < 9 else int(rng.integers(300, 1500))
    x = rng.choice([rng.normal(size=n), np.round(rng.exponential(2, n)), rng.integers(-2, 3, n) * 0.0,
                    np.where(rng.random(n) < 0.4, 0.0, rng.lognormal(0, 1, n))])
    values: list[float | None] = [float(v) for v in x]
    for i in rng.choice(n, int(rng.integers(0, 3)), replace=True):
        values[i] = None if rng.random() < 0.5 else float("nan")
    if rng.random() < 0.05:  # infinite means: np.interp's NaN retry
        values[rng.integers(0, n)] = float(rng.choice([np.inf, -np.inf]))
    return values


def random_points(rng: np.random.Generator, values: list[float | None] | None, levels: bool) -> list[float | None]:
    """Quantile levels, or CDF points near and at the data (exact values, min/max, ±inf)."""
    n = int(rng.integers(0, 8))
    if levels:
        pool = [0.0, 1.0, 0.5, 0.25, 0.75, 0.9, 0.95, -0.0, 1e-300, *rng.random(4)]
    else:
        seen = [v for v in values or [] if v is not None and v == v]
        pool = [*seen[:5], *(min(seen, default=0.0), max(seen, default=0.0)), float("inf"), -float("inf"),
                *rng.normal(size=4)]
    points: list[float | None] = [float(rng.choice(pool)) for _ in range(n)]
    if n and rng.random() < 0.3:
        points[rng.integers(0, n)] = None if rng.random() < 0.5 else float("nan")
    return points


def random_point(rng: np.random.Generator, values: list[float | None] | None) -> float:
    """One CDF point (NaN now and then: a NaN point gives a NaN CDF)."""
    return float(rng.choice([p if p is not None else np.nan for p in random_points(rng, values, False)] or [0.0]))


Chunked = tuple[duckdb.DuckDBPyConnection, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def chunked() -> Chunked:
    """Table t of 5000 rows (three DuckDB chunks): values, digests and reader arguments per row."""
    rng = np.random.default_rng(20240614)
    rows = []
    for i in range(5000):
        values = random_values(rng)
        rows.append({
            "i": i,
            "values": values,
            "q": None if rng.random() < 0.1 else float(rng.choice([0.0, 1.0, 0.5, np.nan, rng.random()])),
            "qs": None if rng.random() < 0.1 else random_points(rng, values, levels=True),
            "x": None if rng.random() < 0.1 else random_point(rng, values),
            "xs": None if rng.random() < 0.1 else random_points(rng, values, levels=False),
            "bins": None if rng.random() < 0.1 else int(rng.integers(1, 12)),
        })
    table = pa.Table.from_pylist(rows, pa.schema([
        ("i", pa.int64()), ("values", pa.list_(pa.float64())), ("q", pa.float64()), ("qs", pa.list_(pa.float64())),
        ("x", pa.float64()), ("xs", pa.list_(pa.float64())), ("bins", pa.int32())]))
    con = python_udfs.register(duckdb.connect())
    con.register("source", table)
    con.execute("create table t as select *, tdigest_build(values) as digest from source")
    return con, rows


def reference_digest(values: list[float | None] | None) -> td.TDigest | None:
    x = np.array([np.nan if v is None else v for v in values or []], dtype=np.float64)
    return td.build(x)


def test_build_matches_one_digest_at_a_time(chunked: Chunked, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk build = per-row build (bytes), and the ordering shortcut = the np.lexsort order."""
    con, rows = chunked
    blobs = [b for (b,) in con.execute("select digest from t order by i").fetchall()]
    fast = [reference_digest(r["values"]) for r in rows]
    monkeypatch.setattr(td, "_sorted", ref_sorted)
    lexsorted = [reference_digest(r["values"]) for r in rows]
    assert sum(b is None for b in blobs) > 500 and sum(b is not None for b in blobs) > 3000
    for blob, a, b in zip(blobs, fast, lexsorted):
        assert (blob is None) == (a is None) == (b is None)
        if blob is not None:
            assert blob == ref_to_bytes(a) == ref_to_bytes(b) == ref_to_bytes(ref_from_bytes(blob))


def test_readers_match_per_row_reference(chunked: Chunked) -> None:
    con, rows = chunked
    got = con.execute(
        """
        select tdigest_count(digest), tdigest_quantile(digest, q), tdigest_quantiles(digest, qs),
               tdigest_cdf(digest, x), tdigest_cdfs(digest, xs), tdigest_histogram(digest, bins), digest
        from t order by i
        """
    ).fetchall()
    for row, (count, q1, qn, c1, cn, hist, blob) in zip(rows, got):
        d = None if blob is None else ref_from_bytes(blob)
        expected = (
            None if d is None else float(d.weights.sum()),
            None if d is None or row["q"] is None else float(ref_quantiles(d, row["q"])),
            None if d is None or row["qs"] is None else ref_at_points(ref_quantiles, d, row["qs"]),
            None if d is None or row["x"] is None else float(ref_cdfs(d, row["x"])),
            None if d is None or row["xs"] is None else ref_at_points(ref_cdfs, d, row["xs"]),
            None if d is None or row["bins"] is None else ref_histogram(d, row["bins"]),
        )
        assert same((count, q1, qn, c1, cn, hist), expected), row["i"]


def test_merge_matches_one_merge_at_a_time(chunked: Chunked, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random lists of digests (NULL digests, NULL and empty lists, repeats) merged per chunk."""
    con, rows = chunked
    rng = np.random.default_rng(7)
    blobs = dict(con.execute("select i, digest from t").fetchall())
    picks = [None if rng.random() < 0.05 else rng.integers(0, len(rows), rng.integers(0, 6)).tolist()
             for _ in range(1500)]
    lists = [None if p is None else [blobs[i] for i in p] for p in picks]
    con.register("picks", pa.table({"j": range(len(picks)), "digests": pa.array(lists, pa.list_(pa.binary()))}))
    merged = con.execute("select tdigest_merge(digests) from picks order by j").fetchall()
    expected_fast = [None if p is None else td.merge([None if blobs[i] is None else td.TDigest.from_bytes(blobs[i])
                                                      for i in p]) for p in picks]
    monkeypatch.setattr(td, "_sorted", ref_sorted)
    expected_ref = [None if p is None else td.merge([None if blobs[i] is None else ref_from_bytes(blobs[i]) for i in p])
                    for p in picks]
    assert sum(m is not None for (m,) in merged) > 1000
    for (blob,), a, b in zip(merged, expected_fast, expected_ref):
        assert (blob is None) == (a is None) == (b is None)
        if blob is not None:
            assert blob == ref_to_bytes(a) == ref_to_bytes(b)


def test_python_api_matches_reference() -> None:
    """TDigest's readers (a batch of one) and its serialisation, against the reference."""
    rng = np.random.default_rng(3)
    for values in (rng.normal(size=5000), np.round(rng.exponential(1, 3000)), np.array([-0.0, 0.0, 0.0]),
                   np.array([4.0]), np.concatenate([np.zeros(400), rng.lognormal(size=600)])):
        d = td.build(values)
        assert d.to_bytes() == ref_to_bytes(d)
        back = td.TDigest.from_bytes(ref_to_bytes(d))
        assert back.to_bytes() == ref_to_bytes(d)
        qs = np.concatenate([[0.0, 1.0, -0.0, 0.5], rng.random(50)])
        xs = np.concatenate([values[:20], [np.nan, np.inf, -np.inf, d.min, d.max], rng.normal(size=30)])
        assert same(d.quantiles(qs).tolist(), ref_quantiles(d, qs).tolist())
        assert same(d.cdfs(xs).tolist(), ref_cdfs(d, xs).tolist())
        assert same(d.cdf(float(xs[0])), float(ref_cdfs(d, xs[0])))
        edges, mass = d.histogram(7)
        bins = [{"lo": float(a), "hi": float(b), "mass": float(m)} for a, b, m in zip(edges[:-1], edges[1:], mass)]
        assert same(bins, ref_histogram(d, 7))


def test_sorted_is_the_lexsort_order() -> None:
    """Ties in (group, mean) that differ in point, weight or the sign of zero keep lexsort's order."""
    rng = np.random.default_rng(11)
    for _ in range(500):
        n = int(rng.integers(0, 300))
        n_groups = int(rng.integers(1, 6))
        groups = rng.integers(0, n_groups, n)
        means = rng.integers(-2, 3, n) * rng.choice([0.0, 0.5, 1.0])
        means[rng.random(n) < 0.3] = -0.0
        weights, points = rng.integers(1, 4, n).astype(float), rng.random(n) < 0.5
        got = td._sorted(groups, means, weights, points, n_groups)
        for a, b in zip(got, ref_sorted(groups, means, weights, points, n_groups)):
            np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


def test_format_is_version_1() -> None:
    """Bytes written before the vectorised code, so existing warehouses stay readable."""
    golden = bytes.fromhex(
        "010000000000407f4004000000000000000000e0bf0000000000001d40000000000000e0bf00000000000000400000000000000840"
        "0000000000001d40000000000000f03f0000000000000040000000000000f03f000000000000f03ff0")
    assert td.build([2.0, -0.5, 2.0, 7.25, 3.0]).to_bytes() == golden
    exact = np.quantile([2.0, -0.5, 2.0, 7.25, 3.0], [0.5, 0.9])  # every centroid a point: exact
    assert same(td.TDigest.from_bytes(golden).quantiles([0.5, 0.9]).tolist(), exact.tolist())
    merged = td.merge([td.build([2.0, 2.0, 1.0, 0.0, -0.0]), td.build(np.linspace(0, 1, 2001) ** 2)])
    assert hashlib.sha256(merged.to_bytes()).hexdigest() == (
        "383cd95d55470d512c38980f90f668982ec6604604d51eebcf1784087b70cebb")


def test_errors_are_raised_for_the_chunk() -> None:
    con = python_udfs.register(duckdb.connect())
    data = td.build([1.0, 2.0]).to_bytes()
    with pytest.raises(duckdb.Error, match=r"\[0, 1\]"):
        con.execute("select tdigest_quantiles(tdigest_build([1.0, 2.0]), [0.5, -0.1])").fetchall()
    with pytest.raises(duckdb.Error, match="bins must be"):
        con.execute("select tdigest_histogram(tdigest_build([1.0, 2.0]), 0)").fetchall()
    for bad, message in ((bytes([2]) + data[1:], "version"), (b"", "version"), (data[:-1], "corrupt"),
                         (data[:10], "corrupt")):
        with pytest.raises(ValueError, match=message):
            td.TDigest.from_bytes(bad)
        with pytest.raises(duckdb.Error, match=message):
            con.execute("select tdigest_count(?::blob)", [bad]).fetchall()
