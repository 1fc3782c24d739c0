"""Engagement, conversion and experiment statistics vs scipy/numpy on the raw demo rows, at three
grains and after an incremental append; hand-made tables for the degenerate cases."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.stats.contingency import odds_ratio

from tests.raw_reference import labelled, read_ih_zips, staged
from valuemarts.api import Warehouse
from tests.api_build import build
from valuemarts.duck import connect
from valuemarts.reports.query import load_metrics
from valuemarts.reports.templates import render

Z95 = stats.norm.ppf(0.975)
GRAINS = [[], ["Channel"], ["Month", "Channel", "PlacementType", "Issue"]]


def _report(warehouse: Path, metric: str, by: list[str]) -> pl.DataFrame:
    return Warehouse.open(warehouse).report(metric, by)


def _close(actual, expected, what: str) -> None:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        assert actual is None, f"{what}: expected empty, got {actual}"
        return
    assert actual is not None, f"{what}: expected {expected}, got empty"
    assert actual == pytest.approx(expected, rel=1e-9, abs=1e-15), what


def _wilson(p: int, n: int, side: int) -> float:
    rate = p / n
    centre = rate + Z95**2 / (2 * n)
    half = Z95 * math.sqrt(rate * (1 - rate) / n + Z95**2 / (4 * n**2))
    return (centre + side * half) / (1 + Z95**2 / n)


def _z_test(p1: int, n1: int, p2: int, n2: int) -> tuple[float | None, float | None]:
    if n1 == 0 or n2 == 0:
        return None, None
    pooled = (p1 + p2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return None, None
    z = (p1 / n1 - p2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z, 2 * stats.norm.sf(abs(z))


def _engagement_reference(rows: pl.DataFrame, by: list[str]) -> dict[tuple, dict]:
    out = {}
    groups = rows.group_by(by) if by else [((), rows)]
    for key, g in groups:
        key = tuple(key) if by else ()
        test, control = g.filter(pl.col("ModelControlGroup") == "Test"), g.filter(pl.col("ModelControlGroup") == "Control")
        p, n = int(g["y"].sum()), g.height
        pt, nt, pc, nc = int(test["y"].sum()), test.height, int(control["y"].sum()), control.height
        z, pval = _z_test(pt, nt, pc, nc)
        ctr_t, ctr_c = (pt / nt if nt else None), (pc / nc if nc else None)
        out[key] = {"Positives": p, "Negatives": n - p, "Count": n, "CTR": p / n,
                    "CTR_Test": ctr_t, "CTR_Control": ctr_c,
                    "CTR_ci_low": _wilson(p, n, -1), "CTR_ci_high": _wilson(p, n, 1),
                    "Lift": ctr_t / ctr_c - 1 if ctr_t is not None and ctr_c else None,
                    "Lift_Z_Score": z, "Lift_P_Val": pval}
    return out


def _compare(mart: pl.DataFrame, reference: dict[tuple, dict], by: list[str]) -> None:
    assert mart.height == len(reference)
    for row in mart.iter_rows(named=True):
        expected = reference[tuple(row[c] for c in by)]
        for column, value in expected.items():
            _close(row[column], value, f"{column} at {dict((c, row[c]) for c in by)}")


@pytest.fixture(scope="module")
def engagement_rows(demo_warehouse) -> pl.DataFrame:
    return labelled(staged(read_ih_zips(demo_warehouse.data / "ih")), ["Clicked"], ["Impression", "Pending"])


@pytest.mark.parametrize("by", GRAINS, ids=lambda b: ",".join(b) or "all")
def test_engagement_matches_raw_rows(demo_warehouse, engagement_rows, by):
    _compare(_report(demo_warehouse.warehouse, "engagement", by), _engagement_reference(engagement_rows, by), by)


@pytest.mark.parametrize("by", GRAINS, ids=lambda b: ",".join(b) or "all")
def test_conversion_matches_raw_rows(demo_warehouse, by):
    rows = labelled(staged(read_ih_zips(demo_warehouse.data / "ih")), ["Conversion"], ["Impression"])
    touch = (rows.filter(pl.col("y") == 1).group_by(["SubjectID", "ConversionEventID"]).len("touchpoints"))
    rows = rows.join(touch, on=["SubjectID", "ConversionEventID"], how="left")
    reference = _engagement_reference(rows, by)
    groups = rows.group_by(by) if by else [((), rows)]
    for key, g in groups:
        entry = reference[tuple(key) if by else ()]
        entry["ConversionRate"] = entry.pop("CTR")
        entry["Revenue"] = float(g["Revenue"].sum())
        entry["RevenuePerConversion"] = entry["Revenue"] / entry["Positives"] if entry["Positives"] else None
        entry["Touchpoints"] = int(g["touchpoints"].fill_null(0).sum())
    mart = _report(demo_warehouse.warehouse, "conversion", by)
    assert mart["Positives"].sum() > 0 and mart["Touchpoints"].sum() > mart["Positives"].sum()
    _compare(mart, reference, by)


def _holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate(np.minimum(1.0, (len(p) - np.arange(len(p))) * p[order]))
    out = np.empty_like(p)
    out[order] = adjusted
    return out


def _experiment_reference(rows: pl.DataFrame, by: list[str]) -> dict[tuple, dict]:
    rows = rows.filter(pl.col("ExperimentName") != "N/A")
    # Randomization units: distinct customers per arm over all the experiment's rows, whatever the
    # slice; the demo config declares equal shares.
    units = {(name, arm): n for name, arm, n in rows.group_by("ExperimentName", "ExperimentGroup")
             .agg(pl.col("SubjectID").n_unique()).iter_rows()}
    unit_srm = {name: stats.chisquare([n for (e, _), n in sorted(units.items()) if e == name]).pvalue
                for name in {e for e, _ in units}}
    out: dict[tuple, dict] = {}
    slices = rows.group_by(by) if by else [((), rows)]
    for slice_key, s in slices:
        slice_key = tuple(slice_key) if by else ()
        comparisons = []
        for (name,), e in s.group_by(["ExperimentName"]):
            arms = e.group_by("ExperimentGroup").agg(pl.col("y").sum().alias("p"), pl.len().alias("n")).sort("ExperimentGroup")
            names, p, n = arms["ExperimentGroup"].to_list(), arms["p"].to_numpy(), arms["n"].to_numpy()
            control = next((a for a in names if "control" in a.lower()), names[0])
            table = np.vstack([p, n - p])
            common = {"chi2_stat": None, "chi2_p_val": None, "g_stat": None, "g_p_val": None,
                      "srm_impressions_p_val": None, "srm_p_val": unit_srm[name]}
            if len(names) >= 2 and p.sum() > 0 and (n - p).sum() > 0:
                chi2, chi2_p, _, _ = stats.chi2_contingency(table, correction=False)
                g, g_p, _, _ = stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")
                common.update(chi2_stat=chi2, chi2_p_val=chi2_p, g_stat=g, g_p_val=g_p)
            if len(names) >= 2:
                common["srm_impressions_p_val"] = stats.chisquare(n).pvalue
            ci = names.index(control)
            for i, arm in enumerate(names):
                entry = {"Positives": int(p[i]), "Count": int(n[i]), "CTR": p[i] / n[i], "is_control": arm == control,
                         "units": units[(name, arm)], **common,
                         "z_score": None, "z_p_val": None, "odds_ratio_stat": None, "odds_ratio_ci_low": None,
                         "odds_ratio_ci_high": None, "lift": None}
                if arm != control:
                    entry["z_score"], entry["z_p_val"] = _z_test(int(p[i]), int(n[i]), int(p[ci]), int(n[ci]))
                    if min(p[i], n[i] - p[i], p[ci], n[ci] - p[ci]) > 0:
                        result = odds_ratio([[p[i], n[i] - p[i]], [p[ci], n[ci] - p[ci]]], kind="sample")
                        interval = result.confidence_interval(0.95)
                        entry.update(odds_ratio_stat=result.statistic, odds_ratio_ci_low=interval.low,
                                     odds_ratio_ci_high=interval.high)
                    entry["lift"] = (p[i] / n[i]) / (p[ci] / n[ci]) - 1 if p[ci] else None
                    if entry["z_p_val"] is not None:
                        comparisons.append((slice_key + (name, arm), entry["z_p_val"]))
                out[slice_key + (name, arm)] = entry
        if comparisons:
            pvals = np.array([c[1] for c in comparisons])
            for (key, _), holm, bh in zip(comparisons, _holm(pvals), stats.false_discovery_control(pvals, method="bh")):
                out[key].update(p_holm=holm, p_bh=bh)
    return out


@pytest.mark.parametrize("by", [[], ["Channel"], ["Year", "Channel", "PlacementType"]], ids=lambda b: ",".join(b) or "all")
def test_experiments_match_scipy(demo_warehouse, engagement_rows, by):
    mart = _report(demo_warehouse.warehouse, "experiment", by)
    reference = _experiment_reference(engagement_rows, by)
    assert mart.height == len(reference) and mart.height >= 5
    assert mart.filter(pl.col("chi2_p_val").is_not_null()).height > 0
    for row in mart.iter_rows(named=True):
        key = tuple(row[c] for c in by) + (row["ExperimentName"], row["ExperimentGroup"])
        for column, value in reference[key].items():
            if column == "is_control":
                assert row[column] == value
            else:
                _close(row[column], value, f"{column} at {key}")


def test_marts_equal_reports_at_configured_grain(demo_warehouse):
    metrics = load_metrics(demo_warehouse.warehouse)
    for family in ("engagement", "conversion", "experiment"):
        metric = metrics[family]
        by = metric["group_by"] + ([metric["experiment_name"], metric["experiment_group"]] if family == "experiment" else [])
        report = _report(demo_warehouse.warehouse, family, by)
        mart = demo_warehouse.frame(f"select * exclude (metric_name) from marts.mart_{family} where metric_name = '{family}'")
        assert mart.select(report.columns).sort(by, nulls_last=True).equals(report.sort(by, nulls_last=True)), family


def test_incremental_append_matches_a_full_build(tmp_path, demo_warehouse):
    """Build half the days, append the rest: the same numbers as one build of everything."""
    ih = tmp_path / "ih"
    shutil.copytree(demo_warehouse.data / "ih", ih)
    later = sorted(ih.glob("*.zip"))[15:]
    parked = tmp_path / "parked"
    parked.mkdir()
    for path in later:
        path.rename(parked / path.name)
    warehouse = tmp_path / "warehouse.duckdb"
    build(demo_warehouse.config, warehouse, [str(ih)], [], log=lambda m: None)
    for path in later:
        (parked / path.name).rename(ih / path.name)
    summary = build(demo_warehouse.config, warehouse, [str(ih)], [], log=lambda m: None)
    assert summary.count("new") == len(later) and summary.count("skipped") == 15
    for family, by in (("engagement", ["Channel", "Issue"]), ("experiment", ["Channel"]), ("conversion", [])):
        appended, full = _report(warehouse, family, by), _report(demo_warehouse.warehouse, family, by)
        assert appended.shape == full.shape and appended.height > 0, family
        for a, f in zip(appended.iter_rows(named=True), full.iter_rows(named=True)):
            for column, value in f.items():
                if isinstance(value, float):
                    _close(a[column], value, f"{family} {column}")   # sums in another order: 1e-9
                else:
                    assert a[column] == value, f"{family} {column}"


# --- hand-made tables: degenerate cases, checked by hand ------------------------------------

ENGAGEMENT = {"name": "engagement", "family": "engagement", "group_columns": [
    {"name": "Channel", "type": "VARCHAR"}, {"name": "ModelControlGroup", "type": "VARCHAR"}]}
EXPERIMENT = {"name": "experiment", "family": "experiment", "experiment_name": "ExperimentName",
              "experiment_group": "ExperimentGroup", "control_group": None, "expected_split": None,
              "no_experiment_value": "N/A", "randomization_unit": "SubjectID", "group_columns": []}


def _scores(macro: str, metric: dict, state: list[tuple], columns: str, by: list[str],
            units: list[tuple] = ()) -> list[dict]:
    """`macro` scored over a hand-made state; experiments also get `units` (metric, experiment,
    arm, unit, labelled rows) as their unit state."""
    con = connect()
    con.execute(f"create table state ({columns})")
    con.executemany(f"insert into state values ({', '.join('?' for _ in state[0])})", state)
    con.execute("create table unit_state (metric_name varchar, experiment varchar, arm varchar, unit varchar, "
                "labelled_rows bigint)")
    if units:
        con.executemany("insert into unit_state values (?, ?, ?, ?, ?)", units)
    result = con.execute(render(macro, "state", metric, by, None, None, {"unit_state": "unit_state"}))
    names = [d[0] for d in result.description]
    return [dict(zip(names, r)) for r in result.fetchall()]


ENG_COLUMNS = "metric_name varchar, Channel varchar, ModelControlGroup varchar, positives bigint, negatives bigint"


def test_zero_control_clicks_gives_empty_lift_not_infinity():
    rows = _scores("engagement_scores", ENGAGEMENT, [
        ("engagement", "Web", "Test", 10, 90), ("engagement", "Web", "Control", 0, 50)], ENG_COLUMNS, [])
    (row,) = rows
    assert (row["Positives"], row["Count"], row["CTR_Test"], row["CTR_Control"]) == (10, 150, 0.1, 0.0)
    assert row["Lift"] is None
    # pooled p = 10/150: z = (0.1 - 0) / sqrt(p(1-p)(1/100 + 1/50))
    pooled = 10 / 150
    assert row["Lift_Z_Score"] == pytest.approx(0.1 / math.sqrt(pooled * (1 - pooled) * 0.03), rel=1e-12)


def test_other_control_group_values_stay_out_of_both_arms():
    rows = _scores("engagement_scores", ENGAGEMENT, [
        ("engagement", "Web", "Test", 10, 90), ("engagement", "Web", "Control", 5, 95),
        ("engagement", "Web", "Holdout", 50, 50), ("engagement", "Web", None, 1, 9)], ENG_COLUMNS, [])
    (row,) = rows
    assert (row["Count"], row["Positives"]) == (310, 66)   # pooled CTR counts every arm
    assert (row["CTR_Test"], row["CTR_Control"]) == (0.1, 0.05)
    assert row["Lift"] == pytest.approx(1.0)
    by_arm = {r["ModelControlGroup"]: r for r in _scores("engagement_scores", ENGAGEMENT, [
        ("engagement", "Web", "Holdout", 50, 50), ("engagement", "Web", "Test", 10, 90)], ENG_COLUMNS, ["ModelControlGroup"])}
    assert by_arm["Holdout"]["CTR"] == 0.5 and by_arm["Holdout"]["CTR_Test"] is None
    assert by_arm["Holdout"]["Lift"] is None and by_arm["Test"]["CTR_Control"] is None


EXP_COLUMNS = "metric_name varchar, ExperimentName varchar, ExperimentGroup varchar, positives bigint, negatives bigint"


def test_three_arm_experiment_by_hand():
    state = [("experiment", "E", "Control", 10, 90), ("experiment", "E", "A", 20, 80), ("experiment", "E", "B", 5, 95),
             ("experiment", "N/A", "N/A", 500, 500)]
    rows = {r["ExperimentGroup"]: r for r in _scores("experiment_scores", EXPERIMENT, state, EXP_COLUMNS, [])}
    assert set(rows) == {"Control", "A", "B"}          # the no-experiment rows are not an experiment
    table = np.array([[20, 5, 10], [80, 95, 90]])
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    assert rows["A"]["chi2_stat"] == pytest.approx(chi2, rel=1e-12) and rows["A"]["chi2_p_val"] == pytest.approx(p, rel=1e-9)
    assert rows["Control"]["is_control"] and rows["Control"]["z_score"] is None and rows["Control"]["reason"] == "control arm"
    assert rows["A"]["odds_ratio_stat"] == pytest.approx((20 * 90) / (80 * 10))
    assert rows["B"]["lift"] == pytest.approx(0.05 / 0.1 - 1)
    assert rows["A"]["srm_impressions_p_val"] == pytest.approx(1.0)   # 100 / 100 / 100
    assert rows["A"]["srm_p_val"] is None and rows["A"]["units"] is None   # no units recorded


def test_sample_ratio_counts_units_not_impressions():
    """An arm showing more per customer has more impressions but the same customers: the unit
    check passes where the impression check fails, and a short arm fails it."""
    state = [("experiment", "E", "Control", 10, 90), ("experiment", "E", "A", 30, 270)]
    even = [("experiment", "E", arm, f"{arm}{i}", 9) for arm in ("Control", "A") for i in range(50)]
    rows = {r["ExperimentGroup"]: r for r in _scores("experiment_scores", EXPERIMENT, state, EXP_COLUMNS, [],
                                                     even + [("other", "E", "A", "x", 1)])}
    assert (rows["Control"]["units"], rows["A"]["units"]) == (50, 50)
    assert rows["A"]["srm_p_val"] == pytest.approx(1.0)
    assert rows["A"]["srm_impressions_p_val"] == pytest.approx(stats.chisquare([100, 300]).pvalue, rel=1e-9)
    short = [u for u in even if not (u[2] == "A" and int(u[3][1:]) >= 30)]   # A keeps 30 of 50
    rows = {r["ExperimentGroup"]: r for r in _scores("experiment_scores", EXPERIMENT, state, EXP_COLUMNS, [], short)}
    assert rows["A"]["units"] == 30
    assert rows["A"]["srm_p_val"] == pytest.approx(stats.chisquare([50, 30]).pvalue, rel=1e-9)
    split = {**EXPERIMENT, "expected_split": {"Control": 5, "A": 3}}   # 50:30 is the intended split
    rows = {r["ExperimentGroup"]: r for r in _scores("experiment_scores", split, state, EXP_COLUMNS, [], short)}
    assert rows["A"]["srm_p_val"] == pytest.approx(1.0)


def test_experiment_with_one_arm_empty_and_no_positives():
    one_arm = _scores("experiment_scores", EXPERIMENT, [("experiment", "E", "Control", 3, 97)], EXP_COLUMNS, [])
    assert one_arm[0]["chi2_stat"] is None and one_arm[0]["srm_p_val"] is None
    assert "fewer than two arms" in one_arm[0]["reason"]
    no_clicks = {r["ExperimentGroup"]: r for r in _scores("experiment_scores", EXPERIMENT, [
        ("experiment", "E", "Control", 0, 100), ("experiment", "E", "A", 0, 80)], EXP_COLUMNS, [])}
    assert no_clicks["A"]["chi2_p_val"] is None and no_clicks["A"]["z_p_val"] is None
    assert no_clicks["A"]["odds_ratio_stat"] is None and "no positives in experiment" in no_clicks["A"]["reason"]
