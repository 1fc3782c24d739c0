"""Model quality (model_ml_scores) against references computed in numpy on the raw export rows.

The references never read the warehouse: labelled rows are derived here in polars from the demo's
zip exports (renaming, template defaults, global filter, dedup, y = any positive per offer), AUC is
Mann-Whitney from mid-ranks and AP is scikit-learn's step sum, both written in numpy. A second,
small warehouse built from a hand-written config covers what the demo data lacks: a group whose
propensities are all below 0.02, constant scores, a group without positives, two metric tables of
the family, and tiny hand-made offer sets for personalization and novelty.
"""

from __future__ import annotations

import functools
import io
import math
import shutil
import zipfile
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from polars.testing import assert_frame_equal
import pytest
import yaml
from sklearn.metrics import average_precision_score, roc_auc_score

from python_udfs import tdigest as td
from valuemarts.api import Warehouse
from valuemarts.dbt_runner import run_dbt
from valuemarts.errors import ValueMartsError
from valuemarts.paths import compiled_dir
from tests.api_build import build
from valuemarts.demo import FILE_DAY, generate_ih, write_ih
from valuemarts.reports.query import load_metrics

TOLERANCE = 1e-4
POSITIVE, NEGATIVE = ["Clicked"], ["Impression", "Pending"]
OFFER_KEY = ["InteractionID", "Issue", "Group", "Name", "Rank"]
# The template config's default values for the columns these tests read (spec section 8).
TEMPLATE_DEFAULTS = {"PlacementType": "N/A", "PropensitySource": "N/A", "FinalPropensity": 0.0}
GRAINS = {
    "whole": [],
    "mid": ["Channel", "PlacementType"],
    "fine": ["Day", "Channel", "PlacementType", "Issue", "Group"],
}


# ---- references on raw rows -------------------------------------------------------------------

def read_zip_exports(folder: Path) -> pl.DataFrame:
    """Every NDJSON member of every export zip, as Pega wrote it."""
    frames = []
    for path in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            frames += [pl.read_ndjson(io.BytesIO(archive.read(m)), infer_schema_length=None) for m in archive.namelist()]
    return pl.concat(frames, how="diagonal_relaxed")


def staged(raw: pl.DataFrame, defaults: dict[str, object]) -> pl.DataFrame:
    """Renamed (px/py/pz stripped, first letter upper), defaulted, Channel not null, deduplicated."""
    names = set(raw.columns)
    renamed = {}
    for column in raw.columns:
        stripped = column[2:] if column[:2] in ("px", "py", "pz") else column
        kept = column if stripped != column and stripped in names else stripped
        renamed[column] = kept[:1].upper() + kept[1:]
    frame = raw.rename(renamed)
    for column, value in defaults.items():
        frame = frame.with_columns(pl.col(column).fill_null(value) if column in frame.columns
                                   else pl.lit(value).alias(column))
    return (
        frame.filter(pl.col("Channel").is_not_null())
        .with_columns(pl.col("OutcomeTime").str.strptime(pl.Datetime("ms", "UTC"), "%Y%m%dT%H%M%S%.3f GMT"))
        .with_columns(Day=pl.col("OutcomeTime").dt.date())
        .unique(OFFER_KEY + ["Outcome"], keep="first", maintain_order=True)
    )


def labelled(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per offer among positive/negative outcomes, y = any positive, from the deciding row."""
    return (
        rows.filter(pl.col("Outcome").is_in(POSITIVE + NEGATIVE))
        .with_columns(y=pl.col("Outcome").is_in(POSITIVE).cast(pl.Int64))
        .sort(["y", "OutcomeTime", "Outcome"], descending=[True, False, False])
        .unique(OFFER_KEY, keep="first", maintain_order=True)
    )


def mann_whitney_auc(scores: np.ndarray, y: np.ndarray) -> float | None:
    """AUC from mid-ranks: (sum of positive ranks - P(P+1)/2) / (P N); None without both classes."""
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if positives == 0 or negatives == 0:
        return None
    values, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    mid_rank = np.cumsum(counts) - (counts - 1) / 2
    return float((mid_rank[inverse][y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def step_average_precision(scores: np.ndarray, y: np.ndarray) -> float | None:
    """scikit-learn's AP: sum over descending distinct thresholds of (R_k - R_k-1) * P_k."""
    positives = int(y.sum())
    if positives == 0 or positives == len(y):
        return None
    order = np.argsort(-scores, kind="stable")
    s, hits = scores[order], y[order]
    last_of_threshold = np.flatnonzero(np.append(s[1:] != s[:-1], True))
    tp = np.cumsum(hits)[last_of_threshold]
    fp = last_of_threshold + 1 - tp
    recall = tp / positives
    return float(np.sum(np.diff(recall, prepend=0.0) * tp / (tp + fp)))


def five_digit_bins(x: np.ndarray) -> np.ndarray:
    """The state's quantisation: round to 5 significant digits (0 stays 0)."""
    safe = np.where(x == 0, 1.0, np.abs(x))
    decimals = 4 - np.floor(np.log10(safe)).astype(int)
    return np.array([0.0 if v == 0 else round(float(v), int(d)) for v, d in zip(x, decimals)])


def binning_bound(scores: np.ndarray, bins: np.ndarray, y: np.ndarray) -> float:
    """The most binning can move the AUC: 1/2 (sum_b n_pos n_neg - sum_exact n_pos n_neg) / (P N).

    Binning is monotone, so pairs in different bins keep their order; a pair sharing a bin but
    not a value turns from 0 or 1 into 1/2.
    """
    def tied_pairs(keys: np.ndarray) -> int:
        _, inverse = np.unique(keys, return_inverse=True)
        pos = np.bincount(inverse, weights=y)
        neg = np.bincount(inverse, weights=1 - y)
        return int(np.sum(pos * neg))
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    return 0.5 * (tied_pairs(bins) - tied_pairs(scores)) / (positives * negatives)


def reference_tdigest_scores(positive: td.TDigest, negative: td.TDigest) -> tuple[float, float]:
    """The reference system's t-digest scores (docs/metrics.md#model-quality) on two digests: 0.01 threshold grid, trapezoid AUC, interpolated AP."""
    thresholds = np.round(np.linspace(0, 1, 101), 4)
    tpr = 1 - np.append(positive.cdfs(thresholds), 1.0)
    fpr = 1 - np.append(negative.cdfs(thresholds), 1.0)
    auc = float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2))
    precision = positive.count * tpr / (positive.count * tpr + negative.count * fpr + 1e-10)
    interpolated = np.maximum.accumulate(precision)
    return auc, float(np.sum((tpr[:-1] - tpr[1:]) * interpolated[:-1]))


def by_group(rows: pl.DataFrame, by: list[str]):
    """(group key tuple, frame) for every group of `rows` by `by` (one group when empty)."""
    if not by:
        yield (), rows
        return
    for key, part in rows.group_by(by):
        yield tuple(key), part


# ---- reports ----------------------------------------------------------------------------------

def report(warehouse: Path, metric: str, by: list[str], where: str | None = None,
           prop: str | None = None) -> pl.DataFrame:
    return Warehouse.open(warehouse).report(metric, by, where, prop)


def keyed(frame: pl.DataFrame, by: list[str]) -> dict[tuple, dict]:
    return {tuple(row[c] for c in by): row for row in frame.iter_rows(named=True)}


# ---- the demo warehouse -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_labelled(demo_warehouse) -> pl.DataFrame:
    return labelled(staged(read_zip_exports(demo_warehouse.data / "ih"), TEMPLATE_DEFAULTS))


def test_numpy_references_agree_with_scikit_learn(demo_labelled: pl.DataFrame) -> None:
    y = demo_labelled["y"].to_numpy()
    for prop in ("Propensity", "FinalPropensity"):
        x = demo_labelled[prop].to_numpy()
        assert mann_whitney_auc(x, y) == pytest.approx(roc_auc_score(y, x), abs=1e-12)
        assert step_average_precision(x, y) == pytest.approx(average_precision_score(y, x), abs=1e-12)


@pytest.mark.parametrize("prop", ["Propensity", "FinalPropensity"])
@pytest.mark.parametrize("grain", list(GRAINS))
def test_auc_and_ap_exact_at_three_grains(demo_warehouse, demo_labelled: pl.DataFrame, grain: str, prop: str) -> None:
    by = GRAINS[grain]
    got = keyed(report(demo_warehouse.warehouse, "model_ml_scores", by, prop=prop), by)
    scored_groups = 0
    for key, part in by_group(demo_labelled, by):
        x, y = part[prop].to_numpy(), part["y"].to_numpy()
        row = got[key]
        assert (row["Positives"], row["Count"]) == (int(y.sum()), len(y))
        auc, ap = mann_whitney_auc(x, y), step_average_precision(x, y)
        if auc is None:
            assert row["roc_auc"] is None and row["average_precision"] is None
            continue
        scored_groups += 1
        bound = binning_bound(x, five_digit_bins(x), y)
        assert bound < TOLERANCE
        assert abs(row["roc_auc"] - auc) <= bound + 1e-12
        assert abs(row["average_precision"] - ap) <= TOLERANCE
    assert len(got) == len(dict(by_group(demo_labelled, by)))
    assert scored_groups >= (1 if grain == "whole" else 8)


def test_binning_bound_is_far_below_tolerance_on_the_whole_demo(demo_labelled: pl.DataFrame) -> None:
    """Five significant digits: the bound is ~4e-6 on 33k offers, and it can't grow with rows for
    a given score distribution (it is a share of pairs, set by the relative bin width)."""
    y = demo_labelled["y"].to_numpy()
    for prop in ("Propensity", "FinalPropensity"):
        x = demo_labelled[prop].to_numpy()
        assert 0 < binning_bound(x, five_digit_bins(x), y) < TOLERANCE / 10


def test_mart_equals_report_at_its_grain(demo_warehouse) -> None:
    group_by = load_metrics(demo_warehouse.warehouse)["model_ml_scores"]["group_by"]
    mart = demo_warehouse.frame(
        "select * exclude (metric_name, property) from marts.mart_model_ml_scores "
        "where metric_name = 'model_ml_scores' and property = 'FinalPropensity'")
    got = report(demo_warehouse.warehouse, "model_ml_scores", group_by, prop="FinalPropensity")
    # Counts exactly; scores up to the last bits of an error-compensated sum (fsum), whose result
    # can depend on the order parallel threads hand it the terms.
    assert_frame_equal(mart.sort(group_by), got.select(mart.columns).sort(group_by), check_exact=False,
                       rel_tol=1e-12, abs_tol=1e-15)


def test_tdigest_scores_follow_the_reference_algorithm(demo_warehouse, demo_labelled: pl.DataFrame) -> None:
    """roc_auc_tdigest / average_precision_tdigest = the reference's grid algorithm on digests of
    each class, built here from the raw scores (merging per-cell digests loses nothing here)."""
    got = keyed(report(demo_warehouse.warehouse, "model_ml_scores", ["Channel"]), ["Channel"])
    for key, part in by_group(demo_labelled, ["Channel"]):
        x, y = part["Propensity"].to_numpy(), part["y"].to_numpy()
        auc, ap = reference_tdigest_scores(td.build(x[y == 1]), td.build(x[y == 0]))
        assert got[key]["roc_auc_tdigest"] == pytest.approx(auc, abs=1e-9)
        assert got[key]["average_precision_tdigest"] == pytest.approx(ap, abs=1e-9)


# ---- a small hand-configured warehouse ----------------------------------------------------------

EXTRA_CONFIG = """
[ih]
file_type = "pega_ds_export"
file_pattern = "**/*.zip"
ih_group_pattern = "\\\\d{8}(?=\\\\d{6}_)"

[ih.extensions]
filter = ""
columns = ""

[ih.extensions.default_values]
PlacementType = "N/A"
Weight = 0.0

[holdings]
file_type = "csv"
file_pattern = "**/*.csv"
file_group_pattern = "(.*)"

[holdings.extensions]
filter = ""
columns = ""

[metrics]
global_filters = ["Channel"]

[metrics.model_ml_scores]
group_by = ["Day", "PlacementType"]
use_t_digest = true
scores = ["roc_auc", "average_precision", "personalization", "novelty"]
positive_model_response = ["Clicked"]
negative_model_response = ["Impression", "Pending"]

[metrics.model_ml_scores_web]
group_by = ["Issue"]
filter = "pl.col('Channel') == 'Web'"
use_t_digest = false
scores = ["roc_auc", "average_precision"]
positive_model_response = ["Clicked"]
negative_model_response = ["Impression"]

[metrics.descriptive]
group_by = ["Outcome"]
use_t_digest = false
columns = ["Propensity", "Priority", "ResponseTime", "Weight", "Score"]
scores = ["Mean", "Median", "p25", "p75", "p90", "p95", "Var", "Std", "Skew", "Min", "Max", "Sum"]

[metrics.descriptive_clicks]
group_by = []
filter = "pl.col('Outcome') == 'Clicked'"
columns = ["Outcome", "Propensity"]
scores = ["Count", "Mean"]
"""
EXTRA_DEFAULTS = {"PlacementType": "N/A", "Weight": 0.0}
START = date(2024, 7, 1)
# Hand-made offer sets of channel "Tiny" per (day, placement): customer -> actions shown.
TINY_OFFER_SETS = {
    (0, "Tile"): {"s1": ["A", "B"], "s2": ["A"], "s3": ["C"]},
    (1, "Tile"): {"s1": ["A", "B"], "s4": ["A", "B"]},
    (0, "Hero"): {"s5": ["D"]},
}


def tiny_rows(template: pl.DataFrame) -> pl.DataFrame:
    """Impression rows for TINY_OFFER_SETS in the raw export layout."""
    rows = []
    for (day, placement), offer_sets in TINY_OFFER_SETS.items():
        for subject, actions in offer_sets.items():
            for rank, action in enumerate(actions, start=1):
                time = f"{START + timedelta(days=day):%Y%m%d}T120000.000 GMT"
                rows.append({"pxInteractionID": f"tiny-{day}-{placement}-{subject}", "pySubjectID": subject,
                             "pyName": action, "pyIssue": "Tiny", "pyGroup": "Tiny", "pyChannel": "Tiny",
                             "PlacementType": placement,
                             "pyOutcome": "Impression", "pxOutcomeTime": time, "pxDecisionTime": time,
                             "pyPropensity": 0.5, "FinalPropensity": 0.5, "pxRank": rank,
                             FILE_DAY: START + timedelta(days=day)})
    return pl.DataFrame(rows).cast({c: template.schema[c] for c in rows[0]})


@functools.cache
def extra_raw() -> pl.DataFrame:
    """Demo rows where Email propensities are squeezed below 0.02, Mobile's FinalPropensity is a
    constant 0.0, CallCenter never clicks, about a third of Priority is missing and Score is Propensity
    shifted by 10 000 (a large offset); plus the Tiny offer sets."""
    raw = generate_ih(6_000, seed=11, days=3, start=START)
    channel = pl.col("pyChannel")
    raw = raw.with_columns(
        pyPropensity=pl.when(channel == "Email").then(pl.col("pyPropensity") * 0.0199).otherwise(pl.col("pyPropensity")),
        FinalPropensity=pl.when(channel == "Mobile").then(0.0).otherwise(pl.col("FinalPropensity")),
        pyOutcome=pl.when((channel == "CallCenter") & (pl.col("pyOutcome") == "Clicked"))
        .then(pl.lit("Pending")).otherwise(pl.col("pyOutcome")),
        pxPriority=pl.when(pl.col("pxInteractionID").str.slice(-1).is_in(["0", "3", "6"]))  # duplicates alike
        .then(None).otherwise(pl.col("pxPriority")),
        Score=10_000 + pl.col("pyPropensity"),
    )
    return pl.concat([raw, tiny_rows(raw)], how="diagonal_relaxed")


def small_warehouse(demo_data: Path, base_temp: Path) -> Path:
    """The hand-configured warehouse, built once per session (tests/test_descriptive.py uses it
    too, so the test run builds one extra warehouse, not two)."""
    root = base_temp / "model_quality_small"
    warehouse = root / "warehouse.duckdb"
    if not warehouse.exists():
        write_ih(extra_raw(), root / "ih", "zip")
        (root / "config.toml").write_text(EXTRA_CONFIG)
        build(root / "config.toml", warehouse, [str(root / "ih")], [str(demo_data / "holdings")], log=lambda m: None)
    return warehouse


@pytest.fixture(scope="module")
def extra(demo_warehouse, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    """The hand-configured warehouse and its labelled rows (derived here from the raw rows)."""
    warehouse = small_warehouse(demo_warehouse.data, tmp_path_factory.getbasetemp())
    return warehouse, labelled(staged(extra_raw().drop(FILE_DAY), EXTRA_DEFAULTS))


def test_propensities_below_two_percent_are_exact(extra) -> None:
    warehouse, rows = extra
    email = rows.filter(pl.col("Channel") == "Email")
    x, y = email["Propensity"].to_numpy(), email["y"].to_numpy()
    assert x.max() < 0.02 and 0 < y.sum() < len(y)
    got = report(warehouse, "model_ml_scores", [], where="Channel = 'Email'").row(0, named=True)
    assert binning_bound(x, five_digit_bins(x), y) < TOLERANCE
    assert got["roc_auc"] == pytest.approx(mann_whitney_auc(x, y), abs=TOLERANCE)
    assert got["average_precision"] == pytest.approx(step_average_precision(x, y), abs=TOLERANCE)
    # the reference's 0.01 grid sees at most two thresholds here (spec 10.1)
    assert abs(got["roc_auc_tdigest"] - got["roc_auc"]) > 0.05


def test_constant_scores_give_half_and_the_reference_gives_an_eighth(extra) -> None:
    warehouse, rows = extra
    mobile = rows.filter(pl.col("Channel") == "Mobile")
    got = report(warehouse, "model_ml_scores", [], where="Channel = 'Mobile'", prop="FinalPropensity").row(0, named=True)
    assert got["roc_auc"] == 0.5
    assert got["average_precision"] == pytest.approx(mobile["y"].mean(), abs=1e-12)
    assert got["roc_auc_tdigest"] == pytest.approx(0.125)  # spec 10.1: a point mass "half above" itself


def test_no_positives_gives_empty_scores(extra) -> None:
    warehouse, _ = extra
    got = report(warehouse, "model_ml_scores", ["Day"], where="Channel = 'CallCenter'")
    assert got.height == 3 and got["Positives"].sum() == 0 and got["Negatives"].min() > 0
    for column in ("roc_auc", "average_precision", "roc_auc_tdigest", "average_precision_tdigest"):
        assert got[column].null_count() == got.height


def test_second_metric_table_has_its_own_filter_grouping_and_no_digests(extra) -> None:
    warehouse, _ = extra
    raw = staged(extra_raw().drop(FILE_DAY), EXTRA_DEFAULTS).filter(pl.col("Channel") == "Web")
    web = (raw.filter(pl.col("Outcome").is_in(["Clicked", "Impression"]))
           .with_columns(y=(pl.col("Outcome") == "Clicked").cast(pl.Int64))
           .sort(["y", "OutcomeTime"], descending=[True, False]).unique(OFFER_KEY, keep="first"))
    got = report(warehouse, "model_ml_scores_web", ["Issue"])
    assert "roc_auc_tdigest" not in got.columns
    rows = keyed(got, ["Issue"])
    for key, part in by_group(web, ["Issue"]):
        x, y = part["Propensity"].to_numpy(), part["y"].to_numpy()
        assert rows[key]["Count"] == len(y)
        expected = mann_whitney_auc(x, y)
        assert rows[key]["roc_auc"] == (None if expected is None else pytest.approx(expected, abs=TOLERANCE))


# ---- personalization and novelty ----------------------------------------------------------------

def pairwise_personalization(offer_sets: list[set[str]]) -> float:
    """1 - mean cosine similarity of set vectors over all pairs (the definition, brute force)."""
    cosines = [len(a & b) / math.sqrt(len(a) * len(b)) for a, b in combinations(offer_sets, 2)]
    return 1 - sum(cosines) / len(cosines)


def self_information_novelty(offer_sets: list[set[str]]) -> float:
    """Mean over shown actions of -log2(share of offer sets that show the action)."""
    shown = [action for s in offer_sets for action in s]
    return sum(-math.log2(sum(action in s for s in offer_sets) / len(offer_sets)) for action in shown) / len(shown)


def test_personalization_and_novelty_of_hand_made_offer_sets(extra) -> None:
    warehouse, _ = extra
    got = keyed(report(warehouse, "model_ml_scores", ["Day"], where="Channel = 'Tiny' and PlacementType = 'Tile'"),
                ["Day"])
    day0, day1 = got[(START,)], got[(START + timedelta(days=1),)]
    # {A,B}, {A}, {C}: one pair with cosine 1/sqrt(2) among three pairs
    assert day0["personalization"] == pytest.approx(1 - (1 / math.sqrt(2)) / 3, abs=1e-12)
    # A in 2 of 3 sets, B and C in 1 of 3: (2 log2(3/2) + 2 log2(3)) / 4
    assert day0["novelty"] == pytest.approx((2 * math.log2(1.5) + 2 * math.log2(3)) / 4, abs=1e-12)
    # two identical sets
    assert day1["personalization"] == pytest.approx(0.0, abs=1e-12)
    assert day1["novelty"] == pytest.approx(0.0, abs=1e-12)


def test_personalization_and_novelty_merge_exactly(extra) -> None:
    """The two days merged equal the definitions on the pooled offer sets of both days."""
    warehouse, _ = extra
    pooled = [set(a) for (_, placement), sets in TINY_OFFER_SETS.items() if placement == "Tile" for a in sets.values()]
    got = report(warehouse, "model_ml_scores", [], where="Channel = 'Tiny' and PlacementType = 'Tile'").row(0, named=True)
    assert got["personalization"] == pytest.approx(pairwise_personalization(pooled), abs=1e-12)
    assert got["personalization"] == pytest.approx(1 - (3 + 3 / math.sqrt(2)) / 10, abs=1e-12)
    assert got["novelty"] == pytest.approx(self_information_novelty(pooled), abs=1e-12)


def test_single_offer_set_has_no_personalization(extra) -> None:
    warehouse, _ = extra
    got = report(warehouse, "model_ml_scores", [], where="Channel = 'Tiny' and PlacementType = 'Hero'").row(0, named=True)
    assert got["personalization"] is None
    assert got["novelty"] == 0.0


def test_state_reconcile_test_counts_rows_without_a_score(demo_warehouse, tmp_path: Path) -> None:
    """The dbt test model_ml_scores__state_reconciles counts a property's unscored labelled rows
    from the interactions with a null score (not by joining every label): rows nulled after the
    build make the stale state fail it, and the state rebuilt from them passes it."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(demo_warehouse.warehouse, warehouse)
    dbt_vars = yaml.safe_load((compiled_dir(demo_warehouse.warehouse) / "vars.yml").read_text())["valuemarts"]
    scored = "select sum(scored_row_count) from marts.mart_model_ml_scores__state where property = 'Propensity'"
    before = Warehouse.open(warehouse).sql(scored).item()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("""
            update intermediate.int_ih__interactions set "Propensity" = null
            where _row_key in (select _row_key from intermediate.int_ih__labelled_keys
                               where metric_name = 'model_ml_scores' order by _row_key limit 10)""")
    with pytest.raises(ValueMartsError, match="model_ml_scores__state_reconciles"):
        run_dbt(["test", "--select", "model_ml_scores__state_reconciles"], warehouse, dbt_vars)
    run_dbt(["build", "--select", "mart_model_ml_scores__state", "--full-refresh"], warehouse, dbt_vars)
    assert Warehouse.open(warehouse).sql(scored).item() == before - 10
