"""Run history beside the warehouse: config versions, the run ledger (failed runs too), experiment
snapshots across appends, peeking flags, verdicts, and config A/B on the same files."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path

import polars as pl
import pytest

from tests.raw_reference import labelled, read_ih_zips, staged
from valuemarts.api import Warehouse, compare_configs
from valuemarts.cli import main
from valuemarts.demo import write_demo
from valuemarts.errors import ValueMartsError
from valuemarts.history.configs import config_diff
from valuemarts.history.experiments import peeking_flags
from valuemarts.history.store import history_path

pytestmark = pytest.mark.slow  # several builds each (tests/conftest.py runs slow files first)

DAYS = 12


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """Small demo exports (zip IH over 12 days, csv holdings) with the demo config."""
    root = tmp_path_factory.mktemp("history")
    write_demo(root, rows=12_000, seed=3, days=DAYS, ih_format="zip", holdings_format="csv")
    return root


def _quiet(_message: str) -> None:
    pass


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def three_builds(demo, tmp_path_factory):
    """A warehouse built on the first 4 days, then appended to twice (8 days, all 12), with the
    experiment report taken after each build: what the snapshots must hold."""
    root = tmp_path_factory.mktemp("three_builds")
    ih = root / "ih"
    ih.mkdir()
    files = sorted((demo / "ih").glob("*.zip"))
    warehouse = Warehouse(root / "warehouse.duckdb", read_only=False)
    reports = []
    for upto in (4, 8, DAYS):
        for path in files[:upto]:
            if not (ih / path.name).exists():
                shutil.copy2(path, ih / path.name)
        warehouse.build(demo / "config.toml", ih=ih, holdings=demo / "holdings", log=_quiet)
        reports.append(Warehouse.open(warehouse.path).report("experiment", by=["ExperimentName"]))
    return warehouse.path, reports


def test_snapshots_accumulate_and_equal_each_builds_report(three_builds):
    warehouse, reports = three_builds
    history = Warehouse.open(warehouse).experiment_history()
    runs = sorted(history["run_id"].unique().to_list())
    assert len(runs) == 3
    columns = {"positives": "Positives", "count": "Count", "units": "units", "ctr": "CTR", "lift": "lift",
               "z_p_val": "z_p_val", "p_holm": "p_holm", "srm_p_val": "srm_p_val",
               "srm_impressions_p_val": "srm_impressions_p_val", "lift_ci_low": "lift_ci_low"}
    for run_id, report in zip(runs, reports):
        snapshot = history.filter(pl.col("run_id") == run_id).sort("experiment", "arm")
        expected = report.sort("ExperimentName", "ExperimentGroup")
        assert snapshot.height == expected.height >= 4
        assert snapshot["experiment"].to_list() == expected["ExperimentName"].to_list()
        assert snapshot["arm"].to_list() == expected["ExperimentGroup"].to_list()
        for ours, theirs in columns.items():
            assert snapshot[ours].to_list() == expected[theirs].to_list(), f"run {run_id}: {ours}"
    counts = [int(r["Count"].sum()) for r in reports]
    assert counts[0] < counts[1] < counts[2]   # the appends grew the experiments
    assert history["peeking"].dtype == pl.Boolean


def test_runs_and_config_versions_after_appends(three_builds):
    warehouse, _ = three_builds
    runs = Warehouse.open(warehouse).runs()
    assert runs["status"].to_list() == ["ok", "ok", "ok"]
    assert runs["config_version"].to_list() == [1, 1, 1]   # the same config three times: one version
    first, second = runs.row(2, named=True), runs.row(1, named=True)
    assert first["files_new"] == 5 and second["files_new"] == 4 and second["files_skipped"] == 5   # + holdings
    assert first["rows_read"] == first["rows_kept"] + first["rows_rejected"]
    assert first["models_built"] > 0 and first["dbt_version"] and first["valuemarts_version"]
    assert Warehouse.open(warehouse).runs(limit=1)["run_id"].to_list() == [runs["run_id"][0]]


def test_config_versions_restore_and_diff(demo, tmp_path, capsys):
    warehouse = tmp_path / "warehouse.duckdb"
    original = (demo / "config.toml").read_bytes()
    changed = tmp_path / "changed.toml"
    # A different CTR definition: one more positive outcome, and a comment that is no difference.
    changed.write_bytes(original.replace(b'positive_model_response = ["Clicked"]',
                                         b'positive_model_response = ["Clicked", "Accepted"] # wider', 1))
    reader = Warehouse.open(warehouse)
    writer = Warehouse(warehouse, read_only=False)
    writer.load(demo / "config.toml", ih=demo / "ih", holdings=demo / "holdings", log=_quiet)
    writer.load(demo / "config.toml", log=_quiet)   # unchanged config: no new version
    assert reader.config_versions()["version"].to_list() == [1]
    writer.load(changed, log=_quiet)
    versions = reader.config_versions()
    assert versions["version"].to_list() == [1, 2] and versions["runs"].to_list() == [2, 1]
    assert reader.config_text(1).encode() == original
    restored = tmp_path / "restored.toml"
    assert main(["config", "restore", "2", "-o", str(restored), "--warehouse", str(warehouse)]) == 0
    assert restored.read_bytes() == changed.read_bytes()
    diff = reader.config_diff(1, 2)
    changed_key = [k for k in diff["key"].to_list() if k.endswith("positive_model_response")]
    assert diff["change"].to_list() == ["changed"] and len(changed_key) == 1
    assert diff.row(0, named=True)["new"] == '["Clicked", "Accepted"]'
    with pytest.raises(ValueMartsError, match="no version 3"):
        reader.config_text(3)
    capsys.readouterr()
    assert main(["config", "show", "1", "--warehouse", str(warehouse)]) == 0
    assert capsys.readouterr().out.encode() == original


def test_config_diff_by_key_not_by_line():
    old = '[metrics.engagement]\ngroup_by = ["Channel"]\nscores = ["CTR"]\n[reports."a.b"]\nx = 1\n'
    new = ('# reordered, commented\n[reports."a.b"]\nx = 2\n[metrics.engagement]\nscores = ["CTR"]  # same\n'
           'group_by = ["Channel", "Issue"]\n[metrics.engagement.extra]\nflag = true\n')
    rows = {r["key"]: r for r in config_diff(old, new).iter_rows(named=True)}
    assert set(rows) == {"metrics.engagement.group_by", '"a.b"'.join(["reports.", ".x"]), "metrics.engagement.extra.flag"}
    assert rows["metrics.engagement.group_by"]["change"] == "changed"
    assert rows["metrics.engagement.extra.flag"] == {"key": "metrics.engagement.extra.flag", "change": "added",
                                                    "old": None, "new": "true"}
    with pytest.raises(ValueMartsError, match="second config is not valid TOML"):
        config_diff(old, "[broken")


def test_a_failed_build_is_recorded_and_leaves_the_warehouse_byte_identical(demo, tmp_path):
    ih = tmp_path / "ih"
    shutil.copytree(demo / "ih", ih)
    warehouse = Warehouse(tmp_path / "warehouse.duckdb", read_only=False)
    warehouse.build(demo / "config.toml", ih=ih, holdings=demo / "holdings", log=_quiet)
    before = _sha256(warehouse.path)
    (ih / "ih-export-20991231235959_000.zip").write_bytes(b"not a zip archive")
    with pytest.raises(ValueMartsError) as failure:
        warehouse.build(demo / "config.toml", ih=ih, holdings=demo / "holdings", log=_quiet)
    assert _sha256(warehouse.path) == before
    latest = Warehouse.open(warehouse.path).runs(limit=1).row(0, named=True)
    assert latest["status"] == "failed" and "ih-export-20991231235959_000.zip" in latest["error"]
    assert latest["error"] == str(failure.value) and latest["ended_at"] >= latest["started_at"]
    assert latest["config_version"] == 1
    # A config that does not compile is a failed run too, with no version recorded for it.
    bad = tmp_path / "bad.toml"
    bad.write_text("[ih]\nfile_type = 3\n")
    with pytest.raises(ValueMartsError):
        warehouse.build(bad, log=_quiet)
    latest = Warehouse.open(warehouse.path).runs(limit=1).row(0, named=True)
    assert latest["status"] == "failed" and latest["config_version"] is None
    assert _sha256(warehouse.path) == before
    assert Warehouse.open(warehouse.path).runs()["status"].to_list() == ["failed", "failed", "ok"]


def _snapshots(p_values: list[float | None], arm: str = "B") -> pl.DataFrame:
    rows = []
    for run_id, p in enumerate(p_values, start=1):
        built_at = f"2026-11-{run_id:02d}T10:00:00+00:00"
        rows.append(("experiment", "E", "Control", 1, run_id, built_at, None))
        rows.append(("experiment", "E", arm, 0, run_id, built_at, p))
    return pl.DataFrame(rows, schema=["metric_name", "experiment", "arm", "is_control", "run_id", "built_at", "p_holm"],
                        orient="row")


@pytest.mark.parametrize("p_values, flagged", [
    ([0.30, 0.04, 0.20, 0.01], True),     # significant on day 2, gone on day 3: peeking
    ([0.30, 0.04, 0.03, 0.001], False),   # significant and staying so
    ([0.30, 0.20, 0.10, 0.06], False),    # never significant
    ([0.01, None], True),                 # significance lost to an undefined test
])
def test_peeking_flag(p_values, flagged):
    (row,) = peeking_flags(_snapshots(p_values)).iter_rows(named=True)
    assert row["peeking"] is flagged
    if flagged:
        came = p_values.index(next(p for p in p_values if p is not None and p < 0.05)) + 1
        assert row["peeking_dates"] == (f"B: significant 2026-11-{came:02d}T10:00:00+00:00, "
                                        f"not significant 2026-11-{came + 1:02d}T10:00:00+00:00")
    else:
        assert row["peeking_dates"] is None


def test_peeking_ignores_the_control_arm():
    snapshots = _snapshots([0.30, 0.20]).with_columns(
        pl.when(pl.col("arm") == "Control").then(pl.Series([0.01, 0.30, 0.9, 0.20])).otherwise(pl.col("p_holm"))
        .alias("p_holm"))
    assert snapshots.filter(pl.col("arm") == "Control")["p_holm"].to_list() == [0.01, 0.9]
    assert not peeking_flags(snapshots)["peeking"][0]


def test_verdicts_round_trip_through_csv(tmp_path, capsys):
    warehouse = str(tmp_path / "warehouse.duckdb")
    notes = ['Orange wins, "clearly"; ship it', "multi\nline note ünïcode ✓", ""]
    for subject, decision, reason, note in zip(("experiment:BannerColour", "report:daily_ctr", "experiment:X,Y"),
                                               ("accept", "more-data", "reject"),
                                               ("significant", "too-few-units", "sample-ratio-mismatch"), notes):
        args = ["verdict", "add", "--subject", subject, "--decision", decision, "--reason", reason, "--note", note,
                "--by", "analyst, one", "--warehouse", warehouse]
        assert main(args) == 0
    capsys.readouterr()
    assert main(["verdict", "list", "--format", "csv", "--warehouse", warehouse]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["subject"] for r in rows] == ["experiment:BannerColour", "report:daily_ctr", "experiment:X,Y"]
    assert [r["note"] for r in rows] == notes
    assert [r["decision"] for r in rows] == ["accept", "more-data", "reject"]
    assert {r["decided_by"] for r in rows} == {"analyst, one"} and all(r["decided_at"] for r in rows)
    assert Warehouse.open(warehouse).verdicts("report:daily_ctr")["reason"].to_list() == ["too-few-units"]
    assert main(["verdict", "add", "--subject", "dashboard", "--decision", "accept", "--reason", "other",
                 "--warehouse", warehouse]) == 1
    with pytest.raises(SystemExit) as usage:   # not a choice: a usage error
        main(["verdict", "add", "--subject", "report:x", "--decision", "maybe", "--reason", "other",
              "--warehouse", warehouse])
    assert usage.value.code == 2
    assert len(Warehouse.open(warehouse).verdicts()) == 3


def test_history_survives_a_full_refresh(demo, three_builds, tmp_path):
    warehouse, _ = three_builds
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy2(warehouse, copy)
    shutil.copy2(history_path(warehouse), history_path(copy))
    before = Warehouse.open(copy).experiment_history()
    Warehouse(copy, read_only=False).build(demo / "config.toml", ih=demo / "ih", holdings=demo / "holdings",
                                           full_refresh=True, log=_quiet)
    after = Warehouse.open(copy).experiment_history()
    assert after["run_id"].n_unique() == 4 and after.height == before.height * 4 // 3
    kept = after.filter(pl.col("run_id").is_in(before["run_id"].unique().to_list()))
    assert kept.drop("peeking", "peeking_dates").equals(before.drop("peeking", "peeking_dates"))


def test_compare_configs_lines_up_two_definitions_on_the_same_rows(demo, tmp_path):
    wider = tmp_path / "wider.toml"
    text = (demo / "config.toml").read_text()
    # engagement counts Pending as neither positive nor negative under B
    head, engagement = text.split("[metrics.engagement]\n", 1)
    wider.write_text(head + "[metrics.engagement]\n" + engagement.replace(
        'negative_model_response = ["Impression", "Pending"]', 'negative_model_response = ["Impression"]', 1))
    result = compare_configs(demo / "config.toml", wider, ih=demo / "ih", log=_quiet)
    rows = staged(read_ih_zips(demo / "ih"))
    for side, negatives in (("a", ["Impression", "Pending"]), ("b", ["Impression"])):
        engagement = labelled(rows, ["Clicked"], negatives)
        value = result.filter((pl.col("metric") == "engagement") & (pl.col("row") == "") & (pl.col("column") == "Count"))
        assert value[side].item() == engagement.height, side
        ctr = result.filter((pl.col("metric") == "engagement") & (pl.col("column") == "CTR"))[side].item()
        assert ctr == pytest.approx(engagement["y"].sum() / engagement.height, rel=1e-12)
    count = result.filter((pl.col("metric") == "engagement") & (pl.col("column") == "Count"))
    assert count["difference"].item() == count["b"].item() - count["a"].item() < 0
    descriptive = result.filter((pl.col("metric") == "descriptive") & pl.col("column").str.ends_with("_Count"))
    assert descriptive.height > 0 and (descriptive["difference"] == 0).all()   # not labelled: unchanged
    experiment_rows = result.filter(pl.col("metric") == "experiment")["row"].unique().to_list()
    assert any(r.startswith("ExperimentName=") and ", ExperimentGroup=" in r for r in experiment_rows)
