"""t-digest accuracy and SQL behaviour (python_udfs.tdigest, python_udfs.tdigest_udfs).

Accuracy is rank error, the promise of docs/metrics.md#descriptive ("percentiles within 1% rank of the exact ones"):
the distance from q to the ECDF interval [#(x < est)/n, #(x <= est)/n] of the raw sample. For data
without ties this is |ECDF(est) − q|; with ties it does not penalise an estimate that hits the tied
value, which even numpy's exact quantile could not avoid.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

import python_udfs
from python_udfs import tdigest as td

QS = np.array([0.25, 0.5, 0.75, 0.9, 0.95])
TOLERANCE = 0.01


def rank_error(sorted_x: np.ndarray, estimates: np.ndarray, qs: np.ndarray) -> np.ndarray:
    below = np.searchsorted(sorted_x, estimates, "left") / len(sorted_x)
    at_or_below = np.searchsorted(sorted_x, estimates, "right") / len(sorted_x)
    return np.maximum(0.0, np.maximum(below - qs, qs - at_or_below))


def sample(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if name == "uniform":
        return rng.uniform(-3, 7, n)
    if name == "propensity":  # CDH propensities: mostly below 0.05
        return rng.beta(1, 40, n)
    if name == "lognormal":
        return rng.lognormal(0, 2, n)
    if name == "point_mass":  # 40% exactly 0, the rest spread
        return np.where(rng.random(n) < 0.4, 0.0, rng.exponential(3, n))
    if name == "heavy_ties":  # a few hundred distinct integers, very unequal frequencies
        return np.minimum(rng.geometric(0.02, n), 400).astype(float)
    raise ValueError(name)


DISTRIBUTIONS = ["uniform", "propensity", "lognormal", "point_mass", "heavy_ties"]


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    return python_udfs.register(duckdb.connect())


def load(con: duckdb.DuckDBPyConnection, x: np.ndarray, g: np.ndarray) -> None:
    """Table t(x, g) of values and group ids."""
    con.execute("create table t as select * from (select unnest($x) x, unnest($g) g)", {"x": x, "g": g})


def uneven_groups(n: int, n_groups: int, rng: np.random.Generator) -> np.ndarray:
    """Group ids with sizes spread over orders of magnitude, every group non-empty."""
    share = rng.lognormal(0, 1.5, n_groups)
    ids = rng.choice(n_groups, n - n_groups, p=share / share.sum())
    return rng.permutation(np.concatenate([np.arange(n_groups), ids]))


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_sql_single_and_merge_tree_within_one_percent_rank(con: duckdb.DuckDBPyConnection, name: str) -> None:
    rng = np.random.default_rng(DISTRIBUTIONS.index(name))
    x = sample(name, 200_000, rng)
    g = uneven_groups(len(x), 240, rng)
    load(con, x, g)
    single, merged = con.execute(
        """
        with pieces as (select g, tdigest_build(list(x)) d from t group by g),
             level1 as (select g // 16 h, tdigest_merge(list(d)) d from pieces group by h),
             level2 as (select h // 4 k, tdigest_merge(list(d)) d from level1 group by k)
        select (select tdigest_quantiles(tdigest_build(list(x)), $q) from t),
               (select tdigest_quantiles(tdigest_merge(list(d)), $q) from level2)
        """,
        {"q": QS.tolist()},
    ).fetchone()
    xs = np.sort(x)
    assert rank_error(xs, np.array(single), QS).max() < TOLERANCE
    assert rank_error(xs, np.array(merged), QS).max() < TOLERANCE
    assert rank_error(xs, np.quantile(x, QS), QS).max() == 0  # the measure itself accepts exact answers


def test_sql_round_trip_matches_numpy(con: duckdb.DuckDBPyConnection) -> None:
    rng = np.random.default_rng(7)
    x = rng.gamma(2.0, 3.0, 100_000)
    load(con, x, rng.integers(0, 3000, len(x)))
    (median,) = con.execute(
        "select tdigest_quantile(tdigest_merge(list(d)), 0.5) "
        "from (select g, tdigest_build(list(x)) d from t group by g)"
    ).fetchone()
    assert rank_error(np.sort(x), np.array([median]), np.array([0.5]))[0] < 0.002
    assert median == pytest.approx(np.quantile(x, 0.5), rel=0.01)


def test_binary_merge_tree_is_accurate_and_close_to_union() -> None:
    rng = np.random.default_rng(3)
    x = rng.lognormal(0, 1, 300_000)
    g = uneven_groups(len(x), 256, rng)
    level = [d for d in td.build_groups(x, g, 256)]
    while len(level) > 1:  # pairwise, like the reference: 8 levels of merging
        level = [td.merge(level[i : i + 2]) for i in range(0, len(level), 2)]
    tree, union = level[0], td.build(x)
    xs = np.sort(x)
    assert tree.count == len(x)
    assert rank_error(xs, tree.quantiles(QS), QS).max() < TOLERANCE
    assert rank_error(xs, union.quantiles(QS), QS).max() < TOLERANCE
    assert np.abs(tree.cdfs(union.quantiles(QS)) - QS).max() < TOLERANCE


def test_merge_is_order_insensitive() -> None:
    rng = np.random.default_rng(4)
    x = rng.beta(1, 40, 50_000)
    g = uneven_groups(len(x), 300, rng)
    pieces = td.build_groups(x, g, 300)
    flat = td.merge(pieces)
    shuffled = td.merge([pieces[i] for i in rng.permutation(len(pieces))])
    assert shuffled.to_bytes() == flat.to_bytes()  # one merge depends only on the set of pieces
    # different merge trees differ, but only within tolerance
    halves = td.merge([td.merge(pieces[::2]), td.merge(pieces[1::2])])
    chunks = td.merge([td.merge(pieces[i : i + 7]) for i in range(0, 300, 7)])
    xs = np.sort(x)
    for digest in (halves, chunks):
        assert rank_error(xs, digest.quantiles(QS), QS).max() < TOLERANCE


def test_exact_when_every_centroid_is_a_point() -> None:
    """Few distinct values (or few values) keep every value: numpy quantiles and mid-rank ECDF."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 30, 100_000).astype(float)
    digest = td.merge(td.build_groups(x, rng.integers(0, 50, len(x)), 50))
    qs = np.linspace(0, 1, 101)
    np.testing.assert_array_equal(digest.quantiles(qs), np.quantile(x, qs))
    probes = np.arange(-1, 31, 0.5)
    mid_rank = ((x[:, None] < probes).sum(0) + 0.5 * (x[:, None] == probes).sum(0)) / len(x)
    np.testing.assert_allclose(digest.cdfs(probes), mid_rank, atol=1e-12)
    small = rng.normal(size=37)
    np.testing.assert_allclose(td.build(small).quantiles(qs), np.quantile(small, qs), rtol=0, atol=1e-12)


def test_cdf_within_one_percent_on_continuous_data() -> None:
    rng = np.random.default_rng(6)
    x = rng.lognormal(0, 1.5, 200_000)
    digest = td.merge(td.build_groups(x, rng.integers(0, 1000, len(x)), 1000))
    probes = np.quantile(x, np.linspace(0.01, 0.99, 50))
    exact = np.searchsorted(np.sort(x), probes, "right") / len(x)
    assert np.abs(digest.cdfs(probes) - exact).max() < TOLERANCE


def test_exact_min_max_and_quantile_bounds(con: duckdb.DuckDBPyConnection) -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_t(2, 300_000)
    assert not td.build(x).points[0]  # the extremes are pooled into centroids, so min/max must be kept aside
    load(con, x, rng.integers(0, 50, len(x)))
    lo, hi = con.execute(
        "select tdigest_quantile(m, 0), tdigest_quantile(m, 1) from "
        "(select tdigest_merge(list(d)) m from (select tdigest_build(list(x)) d from t group by g))"
    ).fetchone()
    assert (lo, hi) == (x.min(), x.max())
    with pytest.raises(duckdb.Error, match=r"\[0, 1\]"):
        con.execute("select tdigest_quantile(tdigest_build([1.0, 2.0]), 1.5)").fetchall()


def test_constant_and_single_value(con: duckdb.DuckDBPyConnection) -> None:
    qs = [0, 0.1, 0.5, 0.95, 1]
    constant, cdf, single, count = con.execute(
        "select tdigest_quantiles(tdigest_merge([tdigest_build([2.5, 2.5, 2.5]), tdigest_build([2.5, 2.5])]), $q), "
        "tdigest_cdf(tdigest_build([2.5, 2.5, 2.5]), 2.5), tdigest_quantiles(tdigest_build([-4.0]), $q), "
        "tdigest_count(tdigest_build([2.5, 2.5, 2.5]))",
        {"q": qs},
    ).fetchone()
    assert constant == [2.5] * 5
    assert cdf == 0.5  # mid-rank convention, as the reference
    assert single == [-4.0] * 5
    assert count == 3


def test_empty_and_null_give_null(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        """
        select tdigest_build([]::double[]), tdigest_build([null, 'nan']::double[]), tdigest_build(null),
               tdigest_merge([]::blob[]), tdigest_merge([null]::blob[]), tdigest_merge(null),
               tdigest_quantile(null, 0.5), tdigest_quantile(tdigest_build([1.0]), null),
               tdigest_cdf(null, 1), tdigest_count(null), tdigest_histogram(null, 3),
               tdigest_quantiles(tdigest_build([1.0, 3.0]), [null, 0.5])
        """
    ).fetchone()
    assert row[:-1] == (None,) * 11
    assert row[-1] == [None, 2.0]
    # a group whose values are all NULL contributes nothing to a merge (no phantom 0.0)
    count, lo = con.execute(
        "select tdigest_count(m), tdigest_quantile(m, 0) from (select tdigest_merge(list(d)) m from "
        "(select tdigest_build(list(x)) d from (values (1, null), (2, 5.0), (2, 7.0)) v(g, x) group by g))"
    ).fetchone()
    assert (count, lo) == (2, 5.0)


def test_serialise_round_trip_is_exact() -> None:
    rng = np.random.default_rng(9)
    digest = td.build(np.concatenate([rng.normal(size=20_000), np.zeros(5000)]))
    data = digest.to_bytes()
    back = td.TDigest.from_bytes(data)
    assert back.to_bytes() == data
    for field in ("means", "weights", "points"):
        np.testing.assert_array_equal(getattr(back, field), getattr(digest, field))
    assert (back.min, back.max, back.compression) == (digest.min, digest.max, digest.compression)
    assert len(data) < 17 * td.DEFAULT_COMPRESSION  # compact: about δ/2..δ centroids of 16 bytes
    with pytest.raises(ValueError, match="version"):
        td.TDigest.from_bytes(bytes([99]) + data[1:])
    with pytest.raises(ValueError, match="corrupt"):
        td.TDigest.from_bytes(data[:-3])


def test_histogram_masses(con: duckdb.DuckDBPyConnection) -> None:
    rng = np.random.default_rng(10)
    x = np.concatenate([rng.uniform(0, 10, 30_000), np.full(10_000, 10.0)])
    (bins,) = con.execute("select tdigest_histogram(tdigest_build($x), 5)", {"x": x}).fetchone()
    edges = np.linspace(x.min(), x.max(), 6)
    np.testing.assert_array_equal([b["lo"] for b in bins], edges[:-1])
    np.testing.assert_array_equal([b["hi"] for b in bins], edges[1:])
    mass = np.array([b["mass"] for b in bins])
    exact = np.histogram(x, edges)[0] / len(x)
    assert mass.sum() == pytest.approx(1.0)
    assert np.abs(mass - exact).max() < TOLERANCE
    assert mass[-1] == pytest.approx(0.25 + 0.75 / 5, abs=TOLERANCE)  # the point mass at max is in the last bin


def test_list_cdfs_equal_pointwise_cdfs(con: duckdb.DuckDBPyConnection) -> None:
    rng = np.random.default_rng(5)
    con.execute("create or replace temp table cdf_values as select unnest(?) as x", [list(rng.beta(1, 40, 5000))])
    points = [0.0, 0.005, 0.01, 0.02, 0.05, None, 1.0]
    listed, pointwise = con.execute(
        "with d as (select tdigest_build(list(x)) as digest from cdf_values) "
        "select tdigest_cdfs(digest, ?), [tdigest_cdf(digest, p) for p in ?] from d", [points, points]).fetchone()
    assert listed == pointwise
    assert listed[5] is None and listed[0] < listed[3] < listed[-1]
