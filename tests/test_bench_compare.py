"""bench compare and bench scale: the logic, without installing the reference or building warehouses.

The agreement verdicts on hand-made frames, the reference's rules replayed on hand-made raw rows,
the report calls derived from report specs, and the day-by-day demo generation the benchmarks
build on (equal to generating the same days in memory; the appended day is a new file).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from valuemarts.bench import reference_env
from valuemarts.bench.compare import Check, Comparison, agreement, report_calls, timing_table
from valuemarts.bench.measure import Measurement
from valuemarts.bench.reference_pipeline import report_grouping
from valuemarts.bench.reference_replay import grid_scores, replay
from valuemarts.demo import FILE_DAY, append_ih_day, ih_by_day, ih_day_chunks, write_demo, write_ih, write_ih_days
from valuemarts.demo.ih import DEFAULT_START

COUNTS = Comparison("t", "engagement", ("Channel",), (Check("Count", "Count", "rule X"),
                                                       Check("CTR", "CTR", "rule Y", pl.lit(0.01))))


def verdicts(rows: list[list]) -> dict[str, str]:
    return {row[2]: row[5] for row in rows}


def test_agreement_exact_approximate_explained_and_differs():
    ours = pl.DataFrame({"Channel": ["Web", "Email"], "Count": [10, 20], "CTR": [0.100, 0.200]})
    same = pl.DataFrame({"Channel": ["Email", "Web"], "Count": [20, 10], "CTR": [0.205, 0.1]})
    assert verdicts(agreement(ours, same, COUNTS)) == {"Count": "exact", "CTR": "within approximation error"}

    theirs = pl.DataFrame({"Channel": ["Web", "Email"], "Count": [12, 20], "CTR": [0.1, 0.25]})
    rows = agreement(ours, theirs, COUNTS)
    assert verdicts(rows) == {"Count": "differs", "CTR": "differs"}
    assert rows[0][3:5] == [2, 2.0] and rows[0][6] == "rule X"

    replayed = theirs.with_columns(pl.col("Count").cast(pl.Decimal(38, 0)))  # DuckDB sums are decimals
    assert verdicts(agreement(ours, theirs, COUNTS, replayed))["Count"] == "explained"
    wrong = theirs.with_columns(Count=pl.Series([11, 20]))
    assert verdicts(agreement(ours, theirs, COUNTS, wrong))["Count"] == "differs"


def test_agreement_names_groups_on_one_side_and_joins_dates_as_text():
    ours = pl.DataFrame({"Day": [DEFAULT_START, DEFAULT_START + timedelta(days=1)], "Count": [1, 2]})
    theirs = pl.DataFrame({"Day": [DEFAULT_START], "Count": [1]})
    rows = agreement(ours, theirs, Comparison("t", "engagement", ("Day",), (Check("Count", "Count", "why"),)))
    assert rows[0][3] == 1
    assert rows[0][5] == "exact (1 groups only in valuemarts)" and rows[0][6] == "why"


def test_agreement_missing_value_on_one_side_is_a_difference():
    ours = pl.DataFrame({"Channel": ["Web"], "Count": [None], "CTR": [0.1]}, schema_overrides={"Count": pl.Int64})
    theirs = pl.DataFrame({"Channel": ["Web"], "Count": [3], "CTR": [0.1]})
    assert verdicts(agreement(ours, theirs, COUNTS))["Count"] == "differs"


def raw_rows(tmp_path: Path) -> Path:
    """A demo folder whose ih/ has two daily files: offer A has Impression + Pending (day 1) and its
    click re-exported on day 2; offer B only a Pending; offer C a Clicked only (a cell without
    negatives, PlacementType Tile)."""
    base = {"pyIssue": "Sales", "pyGroup": "Cards", "pyName": "Gold", "pxRank": 1, "pyChannel": "Web",
            "PlacementType": "Hero", "PropensitySource": "GBM", "ModelControlGroup": "Test", "pyPropensity": 0.1,
            "Revenue": None}
    day1 = [("1", "Impression"), ("1", "Pending"), ("1", "Clicked"), ("2", "Pending")]
    day2 = [("1", "Clicked"), ("3", "Clicked")]
    for day, rows in (("2024-07-01", day1), ("2024-07-02", day2)):
        frame = pl.DataFrame([base | {"pxInteractionID": i, "pyOutcome": o,
                                      "pxOutcomeTime": day.replace("-", "") + "T100000.000 GMT"} for i, o in rows])
        frame = frame.with_columns(PlacementType=pl.when(pl.col("pxInteractionID") == "3").then(pl.lit("Tile"))
                                   .otherwise(pl.col("PlacementType")))
        (tmp_path / "ih" / f"Day={day}").mkdir(parents=True)
        frame.write_parquet(tmp_path / "ih" / f"Day={day}" / "part-0.parquet")
    return tmp_path


METRIC = {"group_by": ["Channel", "PlacementType"], "positive_model_response": ["Clicked"],
          "negative_model_response": ["Impression", "Pending"]}


def test_replay_applies_the_reference_rules(tmp_path):
    data = raw_rows(tmp_path)
    engagement = replay("engagement", METRIC, [], ["PlacementType"], data).sort("PlacementType")
    # Hero: day 1 keeps A's click (positive wins) and B's Pending; day 2 counts A's re-exported click again.
    # Tile: C's cell has no negatives and is dropped before scoring.
    assert engagement["PlacementType"].to_list() == ["Hero"]
    assert engagement.select(pl.col("Count", "Positives", "Negatives").cast(pl.Int64)).row(0) == (3, 2, 1)
    model = replay("model_ml_scores", METRIC, [], ["PlacementType"], data).sort("PlacementType")
    # per day, cells without a positive are dropped: none here; C's cell is kept (it has a positive)
    assert model.select(pl.col("Count").cast(pl.Int64)).to_series().to_list() == [3, 1]
    assert model["roc_auc"].to_list() == [0.5, 0.0]  # Tile has positives only: the reference gives 0.0
    described = replay("descriptive", METRIC, [], ["PlacementType"], data).sort("PlacementType")
    assert described["Propensity_Count"].to_list() == [5, 1]  # dedup per file only: A's click twice


def test_replayed_clv_frequency_counts_holdings(tmp_path):
    (tmp_path / "holdings").mkdir()
    pl.DataFrame({"pxHoldingID": ["H1", "H2", "H3", "H4"], "CustomerID": ["C1", "C1", "C1", "C2"],
                  "ControlGroup": ["Test"] * 4}).write_parquet(tmp_path / "holdings" / "holdings.parquet")
    clv = {"group_by": ["ControlGroup"], "customer_id_col": "CustomerID"}
    assert replay("clv", clv, [], ["ControlGroup"], tmp_path).sort("CustomerID")["frequency"].to_list() == [2, 0]


def test_grid_scores_reproduce_the_reference_method():
    # the spec's own example: a constant score gives 0.125, not 0.5 (weakness 1)
    assert grid_scores(np.array([True, False, True, False]), np.zeros(4))[0] == 0.125
    rng = np.random.default_rng(1)
    y = rng.random(20_000) < 0.3
    spread = np.clip(rng.normal(0.5 + 0.2 * y, 0.2), 0, 1)  # scores over [0, 1]: the grid is close to exact
    assert grid_scores(y, spread)[0] == pytest.approx(roc_auc(y, spread), abs=0.005)
    small = spread / 50  # all under 0.02: a few grid points, far off (the spec: 0.71 -> 0.54)
    assert roc_auc(y, small) - grid_scores(y, small)[0] > 0.05
    assert grid_scores(y, spread * ~y) != (0.0, 0.0) and grid_scores(y & False, spread) == (0.0, 0.0)


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney: P(score of a positive > score of a negative), ties counted one half."""
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    mid_rank = (np.cumsum(counts) - (counts - 1) / 2)[inverse]
    n_pos = int(y.sum())
    return float((mid_rank[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (len(y) - n_pos)))


def test_report_grouping_follows_the_plot_functions():
    metric_group_by = ["Day", "Channel", "PlacementType"]
    line = {"metric": "engagement", "type": "line", "group_by": metric_group_by, "x": "Day", "color": "Issue",
            "facet_row": "Channel", "facet_column": "PlacementType"}
    assert report_grouping(line, metric_group_by) == ["Day", "PlacementType", "Channel", "Issue"]
    assert report_grouping({"metric": "engagement", "type": "generic"}, metric_group_by) == ["Channel"]
    assert report_grouping({"metric": "engagement", "type": "gauge", "group_by": ["Channel"]}, metric_group_by) == \
        ["Channel"]
    experiment = {"metric": "experiment", "type": "line", "group_by": ["ExperimentName"], "facet_row": "Channel"}
    assert report_grouping(experiment, []) == ["ExperimentName", "Channel"]
    histogram = {"metric": "descriptive", "type": "histogram", "group_by": ["Day"], "facet_column": "Channel"}
    assert report_grouping(histogram, metric_group_by) == ["Channel"]
    funnel = {"metric": "descriptive", "type": "funnel", "group_by": ["Channel"], "x": "Outcome"}
    assert report_grouping(funnel, metric_group_by) == ["Channel", "Outcome"]


def test_report_calls_skip_what_valuemarts_cannot_answer():
    columns = [{"name": c} for c in ("Day", "Channel", "Outcome")]
    specs = {"metrics": {"descriptive": {"family": "descriptive", "group_by": ["Day", "Channel", "Outcome"],
                                         "group_columns": columns}},
             "reports": {
                 "ok": {"metric": "descriptive", "type": "line", "x": "Day", "y": "Propensity"},
                 "outside": {"metric": "descriptive", "type": "line", "x": "Month", "y": "Propensity"},
                 "unknown": {"metric": "engagement_web", "type": "gauge", "group_by": []}}}
    calls = report_calls(specs)
    assert [c["command"] for c in calls["run"]] == [["report", "descriptive", "--by", "Day", "--property", "Propensity"]]
    assert [s["report"] for s in calls["skipped"]] == ["outside", "unknown"]


def test_day_by_day_generation_equals_the_same_days_in_memory(tmp_path):
    rows, days = 3_000, 5
    chunks = list(ih_day_chunks(rows, seed=7, days=days))
    spilled = sum(c.filter(pl.col(FILE_DAY) > DEFAULT_START + timedelta(days=i)).height for i, c in enumerate(chunks))
    assert spilled > 0  # some rows are carried to a later day's file, so the routing is exercised
    in_memory = write_ih(pl.concat(chunks).sort(FILE_DAY, "pxOutcomeTime", maintain_order=True), tmp_path / "a",
                         "parquet")
    streamed = write_ih_days(ih_by_day(iter(chunks)), tmp_path / "b", "parquet")
    assert [p.relative_to(tmp_path / "a") for p in in_memory] == [p.relative_to(tmp_path / "b") for p in streamed]
    assert [p.read_bytes() for p in in_memory] == [p.read_bytes() for p in streamed]
    assert sum(pl.read_parquet(p).height for p in streamed) == rows


def test_append_day_lands_in_a_new_day_folder_and_changes_nothing_else(tmp_path):
    rows, days = 2_000, 4
    write_demo(tmp_path, rows=rows, days=days, ih_format="parquet", holdings_format="parquet", by_day=True,
               customers=50)
    before = {p: hashlib.md5(p.read_bytes()).hexdigest() for p in tmp_path.rglob("*") if p.is_file()}
    old = pl.read_parquet(tmp_path / "ih" / "**" / "*.parquet", hive_partitioning=False)
    path = append_ih_day(tmp_path, rows=rows, days=days, ih_format="parquet")
    assert path == tmp_path / "ih" / f"Day={DEFAULT_START + timedelta(days=days)}" / "part-0.parquet"
    assert {p: hashlib.md5(p.read_bytes()).hexdigest() for p in before} == before
    new = pl.read_parquet(path)
    assert new.height == rows // days
    assert set(new["pxInteractionID"]).isdisjoint(old["pxInteractionID"])
    assert set(new["pySubjectID"]) <= {f"CUST-{i:06d}" for i in range(1, 201)}  # the same customer IDs


def test_reference_env_is_reused_while_its_pins_are_unchanged(tmp_path, monkeypatch):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").touch()
    (tmp_path / "valuemarts-requirements.txt").write_text("\n".join(reference_env.REQUIREMENTS) + "\n")

    def no_install(*args, **kwargs):
        raise AssertionError("pip must not run")

    monkeypatch.setattr(reference_env.subprocess, "run", no_install)
    assert reference_env.ensure_reference_env(tmp_path) == tmp_path / "bin" / "python"
    (tmp_path / "valuemarts-requirements.txt").write_text("cdhdashboard==0.1\n")
    with pytest.raises(AssertionError, match="pip must not run"):
        reference_env.ensure_reference_env(tmp_path)


def test_timing_table_compares_each_step_with_the_reference():
    reference = {"measurement": Measurement(100, 600), "seconds": {"ih_metrics": 20, "holdings_clv": 1, "reports": 70},
                 "reports": {"clv_model": {"seconds": 60}}}
    reports = {"processes": Measurement(60, 400), "in_process": Measurement(20, 450), "count": 34,
               "failed": [{"report": "x"}]}
    table = {row[0]: row[1:] for row in timing_table(reference, Measurement(50, 1000), reports, Measurement(40, 900))}
    assert table["valuemarts build (full)"] == [50, 1000, "2.0x faster"]
    assert table["valuemarts reports: 34 report processes (1 failed)"] == [60, 400, "1.7x faster"]
    assert table["valuemarts total (build + report processes)"] == [110, 1000, "1.1x slower"]
    assert table["valuemarts append one day"] == [40, 900, "80% of the full build"]
    assert table["  its report data (CLV model fits: 60.0 s)"] == [70, None, ""]
