"""Appending files equals rebuilding from all files, mart for mart (issue 14).

An append recomputes only the state cells its rows touch (int_ih__changes,
macros/metrics/common.sql family_state_model); these tests build the same final set of files
twice, once in steps and once from scratch, and compare every mart and state. The steps cover a
plain new day, an outcome arriving in a later file for an offer of an earlier one (a relabelled
offer whose earlier label is retracted from its old cell), a row repeated in a later file
(deduplication across files) and a replaced file (its rows withdrawn)."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.api_build import build
from valuemarts.demo import write_demo

pytestmark = pytest.mark.slow  # several builds each (tests/conftest.py runs slow files first)

# Columns that record when or in which load a row was made.
RUN_COLUMNS = ("load_id",)  # and every `*_at` timestamp (trained_at, promoted_at, ...)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("appends")
    write_demo(root, rows=8_000, seed=11, days=6, ih_format="parquet", holdings_format="csv")
    return root


@pytest.fixture(scope="module")
def full_build(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse built from every demo file at once, in one statement per model."""
    warehouse = tmp_path_factory.mktemp("full_build") / "warehouse.duckdb"
    build(demo / "config.toml", warehouse, [str(demo / "ih")], [str(demo / "holdings")])
    return warehouse


def day_folders(demo: Path) -> list[Path]:
    return sorted((demo / "ih").iterdir())


def marts(warehouse: Path) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' and table_name <> 'mart_file_loads' "
            "order by 1").fetchall()]
        return {name: con.execute(f'select * from marts."{name}"').pl() for name in names}
    finally:
        con.close()


def assert_same_marts(stepwise: Path, rebuilt: Path) -> None:
    """Metric marts and states equal: counts and labels exactly, float sums up to summation order.
    CLV marts read no IH, so an IH append leaves them as they were (test below); a rebuild refits
    them, which moves fitted values within the optimisers' tolerance, so only their non-float
    columns are compared here."""
    ours, theirs = marts(stepwise), marts(rebuilt)
    assert ours.keys() == theirs.keys()
    assert any(frame.height > 0 for frame in ours.values())
    for name, frame in ours.items():
        other = theirs[name]
        assert frame.columns == other.columns, name
        keep = [c for c in frame.columns if c not in RUN_COLUMNS and not c.endswith("_at")
                and frame.schema[c] != pl.Binary and not (name.startswith("mart_clv") and frame.schema[c].is_float())]
        keep = [c for c in keep if not (name.startswith("mart_clv") and c.endswith("_json"))]
        order = [c for c in keep if not frame.schema[c].is_float()]
        left, right = frame.select(keep).sort(order, nulls_last=True), other.select(keep).sort(order, nulls_last=True)
        assert left.height == right.height, f"{name}: {left.height} rows after appends, {right.height} rebuilt"
        assert_frame_equal(left, right, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)


def late_outcomes(day_file: Path, out_file: Path) -> int:
    """A later file with, for some offers of `day_file`, a Clicked and a Conversion outcome an hour
    after the impression, plus a few rows repeated verbatim (duplicates across files)."""
    rows = pl.read_parquet(day_file, hive_partitioning=False)
    impressions = rows.filter(pl.col("pyOutcome") == "Impression").head(40)
    later = pl.col("pxOutcomeTime").str.strptime(pl.Datetime, "%Y%m%dT%H%M%S%.3f %Z") + timedelta(hours=1)
    clicked = impressions.with_columns(pl.lit("Clicked").alias("pyOutcome"),
                                       later.dt.strftime("%Y%m%dT%H%M%S%.3f GMT").alias("pxOutcomeTime"))
    converted = clicked.head(10).with_columns(pl.lit("Conversion").alias("pyOutcome"))
    late = pl.concat([clicked, converted, rows.head(5)])
    out_file.parent.mkdir(parents=True)
    late.write_parquet(out_file)
    return late.height


def test_appending_days_equals_a_full_build(demo: Path, full_build: Path, tmp_path: Path):
    config = demo / "config.toml"
    folders = day_folders(demo)
    held_back = tmp_path / "held_back"
    held_back.mkdir()
    for folder in folders[-2:]:
        shutil.move(folder, held_back / folder.name)
    stepwise = tmp_path / "stepwise.duckdb"
    build(config, stepwise, [str(demo / "ih")], [str(demo / "holdings")])
    clv_before = {name: frame for name, frame in marts(stepwise).items() if name.startswith("mart_clv")}
    for folder in folders[-2:]:
        shutil.move(held_back / folder.name, folder)
        summary = build(config, stepwise)
        assert summary.count("new") == 1 and summary.models_built
    # An IH append leaves the CLV marts (holdings only) exactly as they were: no refit.
    after = marts(stepwise)
    assert all(after[name].equals(frame) for name, frame in clv_before.items())
    assert_same_marts(stepwise, full_build)


def test_late_outcomes_duplicates_and_a_replaced_file_equal_a_full_build(demo: Path, tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(demo, data)
    config = data / "config.toml"
    stepwise = tmp_path / "stepwise.duckdb"
    build(config, stepwise, [str(data / "ih")], [str(data / "holdings")])
    before = marts(stepwise)

    first_day = next(day_folders(data)[0].glob("*.parquet"))
    assert late_outcomes(first_day, data / "ih" / "Day=late" / "part-0.parquet") == 55
    assert build(config, stepwise).count("new") == 1
    after = marts(stepwise)
    # The late clicks moved offers from y = 0 to y = 1: the engagement state changed.
    assert not before["mart_engagement__state"].equals(after["mart_engagement__state"])

    replaced = next(day_folders(data)[1].glob("*.parquet"))
    rows = pl.read_parquet(replaced, hive_partitioning=False)
    rows.head(rows.height // 2).write_parquet(replaced)
    assert build(config, stepwise).count("replaced") == 1

    rebuilt = tmp_path / "rebuilt.duckdb"
    build(config, rebuilt, [str(data / "ih")], [str(data / "holdings")])
    assert_same_marts(stepwise, rebuilt)


def test_a_build_in_batches_equals_one_statement(demo: Path, full_build: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch):
    """The list()-holding models (digests, ranking scores) run batch by batch of their groups on a
    big build (macros/batched_table.sql); 1,500 rows per batch makes six of 8,000 rows here."""
    config, ih, holdings = demo / "config.toml", [str(demo / "ih")], [str(demo / "holdings")]
    monkeypatch.setenv("VALUEMARTS_ROWS_PER_BATCH", "1500")
    batched = tmp_path / "batched" / "warehouse.duckdb"
    build(config, batched, ih, holdings)
    log = (batched.parent / "dbt_target" / "logs" / "dbt.log").read_text()
    for model in ("mart_descriptive__state", "mart_descriptive", "mart_model_ml_scores__state", "mart_model_ml_scores"):
        assert re.search(rf"set variable vm_batch = 5;\s+insert into \S+{model}__dbt_tmp", log), model
    assert "vm_batch = 6" not in log
    assert_same_marts(batched, full_build)
    ours, theirs = marts(batched), marts(full_build)
    for name, digest in (("mart_descriptive__state", "value_digest"), ("mart_model_ml_scores__state", "score_digest")):
        keys = [c for c in ours[name].columns if c != digest and not ours[name].schema[c].is_float()]
        assert ours[name].select(keys).n_unique() == ours[name].height
        left, right = (frame.select(keys + [digest]).sort(keys, nulls_last=True) for frame in (ours[name], theirs[name]))
        assert left[digest].null_count() < left.height
        assert left.equals(right), name
