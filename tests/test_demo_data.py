"""Demo data: deterministic, realistic, carrying the signal the metrics must find, identical in every format."""

from __future__ import annotations

import itertools
import tomllib
import zipfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from valuemarts import duck
from valuemarts.demo import (FILE_DAY, demo_config_toml, generate_holdings, generate_ih, write_demo,
                             write_holdings, write_ih)
from valuemarts.demo.config import EXPERIMENT_DESIGN, template_toml

ROWS = 20_000
SIGNAL_ROWS = 200_000  # enough clicks per model and experiment arm for stable rates
PEGA_TIME = "%Y%m%dT%H%M%S%.3f %Z"
OFFER = ["pxInteractionID", "pyIssue", "pyGroup", "pyName", "pxRank"]


@pytest.fixture(scope="module")
def ih() -> pl.DataFrame:
    return generate_ih(ROWS)


@pytest.fixture(scope="module")
def signal() -> pl.DataFrame:
    """One labelled row per offer (y = any Clicked), as the model and engagement metrics see them."""
    return (generate_ih(SIGNAL_ROWS).group_by(OFFER).agg(
        y=(pl.col("pyOutcome") == "Clicked").any(),
        *(pl.col(c).first() for c in ("pyPropensity", "PropensitySource", "ModelControlGroup",
                                      "ExperimentName", "ExperimentGroup")),
    ).sort(OFFER))


@pytest.fixture(scope="module")
def holdings() -> pl.DataFrame:
    return generate_holdings()


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney: P(score of a positive > score of a negative), ties counted one half."""
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    mid_rank = (np.cumsum(counts) - (counts - 1) / 2)[inverse]
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    return float((mid_rank[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def test_roc_auc_counts_ties_as_half():
    assert roc_auc(np.array([True, False]), np.array([0.2, 0.1])) == 1.0
    assert roc_auc(np.array([True, False, True, False]), np.array([0.1, 0.1, 0.3, 0.2])) == 0.625


# --- determinism -------------------------------------------------------------------------------

def test_same_seed_same_frames_other_seed_different(ih, holdings):
    assert_frame_equal(generate_ih(ROWS), ih)
    assert not generate_ih(ROWS, seed=7).equals(ih)
    assert_frame_equal(generate_holdings(), holdings)
    assert not generate_holdings(seed=7).equals(holdings)


@pytest.mark.parametrize("fmt", ["parquet", "json", "zip"])
def test_same_seed_same_file_bytes(ih, tmp_path, fmt):
    first = write_ih(ih, tmp_path / "a", fmt)
    second = write_ih(generate_ih(ROWS), tmp_path / "b", fmt)
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second))


# --- IH shape ----------------------------------------------------------------------------------

def test_rows_days_and_columns(ih):
    assert ih.height == ROWS
    assert ih[FILE_DAY].min() == date(2024, 7, 1)
    assert ih[FILE_DAY].max() == date(2024, 7, 1) + timedelta(days=89)
    for column in ("pxInteractionID", "pySubjectID", "pyName", "pyIssue", "pyGroup", "pyChannel", "pyDirection",
                   "PlacementType", "pyOutcome", "pxOutcomeTime", "pxDecisionTime", "pyPropensity",
                   "FinalPropensity", "pxPriority", "pxRank", "ModelControlGroup", "pyModelCategory",
                   "PropensitySource", "ExperimentName", "ExperimentGroup", "Revenue", "ConversionEventID",
                   "pyTreatment", "CustomerType", "pxFactID", "pyApplication", "pxStreamPartition"):
        assert column in ih.columns
    assert ih["pyChannel"].null_count() == 0  # the template's global filter drops null channels
    assert ih.select(pl.col("pyIssue", "pyGroup", "pyName").n_unique()).row(0) == (4, 10, 38)


def test_generate_ih_days_and_start():
    df = generate_ih(3_000, days=7, start=date(2025, 1, 1))
    assert df.height == 3_000
    assert (df[FILE_DAY].min(), df[FILE_DAY].max()) == (date(2025, 1, 1), date(2025, 1, 7))


def test_timestamps_parse_and_outcomes_follow_decisions(ih):
    times = ih.select(pl.col("pxOutcomeTime", "pxDecisionTime").str.strptime(pl.Datetime("ms"), PEGA_TIME))
    assert times.null_count().sum_horizontal().item() == 0
    assert (times["pxOutcomeTime"] >= times["pxDecisionTime"]).all()
    assert ih["pxOutcomeTime"].str.contains(r"^\d{8}T\d{6}\.\d{3} GMT$").all()


def test_ranks_are_1_to_k_per_interaction(ih):
    ranks = ih.group_by("pxInteractionID").agg(k=pl.col("pxRank").max(), n=pl.col("pxRank").n_unique(),
                                               low=pl.col("pxRank").min())
    assert (ranks["low"] == 1).all() and (ranks["k"] == ranks["n"]).all() and ranks["k"].max() == 4


def test_responses_follow_an_impression_of_the_same_offer(ih):
    first = ih.group_by(*OFFER, "pyOutcome").agg(pl.col("pxOutcomeTime").min()).pivot(
        "pyOutcome", index=OFFER, values="pxOutcomeTime")
    clicked = first.filter(pl.col("Clicked").is_not_null())
    assert clicked.height > 0 and (clicked["Impression"] < clicked["Clicked"]).all()
    converted = first.filter(pl.col("Conversion").is_not_null())
    assert converted["Impression"].null_count() == 0
    assert ih.filter(pl.col("pyOutcome") == "Pending")["pyDirection"].unique().to_list() == ["Outbound"]


def test_revenue_and_conversion_ids_only_on_conversions(ih):
    conversion = pl.col("pyOutcome") == "Conversion"
    assert ih.filter(conversion)["Revenue"].null_count() == 0
    assert ih.filter(~conversion).select(pl.col("Revenue", "ConversionEventID").null_count()).row(0) == (
        ih.filter(~conversion).height,) * 2
    touches = ih.filter(conversion).unique().group_by("ConversionEventID").len()["len"]
    assert touches.max() >= 2  # some conversions are credited to two interactions (touchpoints)


def test_duplicates_some_in_next_days_file(ih):
    raw = ih.drop(FILE_DAY)
    duplicates = raw.height - raw.unique().height
    assert 0.004 * ROWS <= duplicates <= 0.006 * ROWS
    outcome_day = ih["pxOutcomeTime"].str.strptime(pl.Datetime("ms"), PEGA_TIME).dt.date()
    assert ((ih[FILE_DAY] - outcome_day) == timedelta(days=1)).sum() > 0.3 * duplicates
    assert ((ih[FILE_DAY] != outcome_day) & ~raw.is_duplicated()).sum() == 0


def test_some_clicks_land_on_the_next_day(ih):
    clicks = ih.filter(pl.col("pyOutcome") == "Clicked").select(
        pl.col("pxOutcomeTime", "pxDecisionTime").str.strptime(pl.Datetime("ms"), PEGA_TIME).dt.date())
    crossing = (clicks["pxOutcomeTime"] > clicks["pxDecisionTime"]).sum()
    assert 0 < crossing < 0.1 * clicks.height


# --- IH signal ---------------------------------------------------------------------------------

def test_propensity_ranks_clicks_per_model(signal):
    test_arm = signal.filter(pl.col("ModelControlGroup") == "Test")
    sources = test_arm["PropensitySource"].unique().sort().to_list()
    assert sources == ["Bayesian", "Gradient boosting"]
    for source in sources:
        rows = test_arm.filter(pl.col("PropensitySource") == source)
        auc = roc_auc(rows["y"].to_numpy(), rows["pyPropensity"].to_numpy())
        assert 0.6 <= auc <= 0.8, (source, auc)


def test_random_actions_of_the_control_arm_click_less(signal):
    ctr = dict(signal.group_by("ModelControlGroup").agg(pl.col("y").mean()).iter_rows())
    assert set(ctr) == {"Test", "Control"}
    assert ctr["Control"] < 0.8 * ctr["Test"]
    assert 0.07 <= (signal["ModelControlGroup"] == "Control").mean() <= 0.13


def test_experiments_have_arms_with_different_ctr(signal):
    arms = signal.filter(pl.col("ModelControlGroup") == "Test").group_by("ExperimentName", "ExperimentGroup").agg(
        ctr=pl.col("y").mean())
    expected = {"PriorityWeights": {"Control", "WeightA", "WeightB"}, "BannerColour": {"Control", "Orange"}}
    for name, groups in expected.items():
        rates = dict(arms.filter(pl.col("ExperimentName") == name).select("ExperimentGroup", "ctr").iter_rows())
        assert set(rates) == groups
        assert max(rates.values()) > 1.15 * min(rates.values()), (name, rates)
    outside = signal.filter(pl.col("ExperimentName").is_null())
    assert outside.height > 0 and outside["ExperimentGroup"].null_count() == outside.height


def test_propensities_are_realistic(signal):
    propensity = signal["pyPropensity"].to_numpy()
    assert (propensity < 0.05).mean() > 0.5
    assert 0.01 <= np.median(propensity) <= 0.03
    assert ((propensity > 0) & (propensity < 1)).all()


# --- holdings ----------------------------------------------------------------------------------

def test_holdings_customers_buy_like_bg_nbd(holdings, ih):
    days = holdings["pyPurchasedDate"].str.strptime(pl.Datetime("ms"), PEGA_TIME).dt.date()
    periods = holdings.with_columns(day=days).group_by("CustomerID").agg(pl.col("day").n_unique())["day"]
    assert 0.2 <= (periods == 1).mean() <= 0.8
    assert periods.max() >= 5
    assert holdings["pxHoldingID"].is_unique().all()
    assert set(holdings["CustomerID"]) & set(ih["pySubjectID"])
    assert (holdings["RecurringPeriod"] == 0).any() and (holdings["OneTimeCost"] > 0).all()
    assert holdings["pyChannel"].null_count() > 0


def test_holdings_shift_changes_only_what_follows(holdings):
    shift = date(2024, 3, 1)
    shifted = generate_holdings(shift_date=shift, shift_factor=2.0)
    before = pl.col("pyPurchasedDate") < f"{shift:%Y%m%d}"
    assert_frame_equal(shifted.filter(before), holdings.filter(before))
    after = [frame.filter(~before) for frame in (holdings, shifted)]
    assert after[1].height > 1.3 * after[0].height
    assert after[1]["OneTimeCost"].mean() > 1.5 * after[0]["OneTimeCost"].mean()


# --- formats -----------------------------------------------------------------------------------

def _read_ih(path: Path, fmt: str, schema: pl.Schema) -> pl.DataFrame:
    if fmt == "parquet":
        return pl.read_parquet(path, hive_partitioning=False)
    data = zipfile.ZipFile(path).read("data.json") if fmt == "zip" else path.read_bytes()
    assert b":null" not in data  # null fields are left out, as Pega does
    return pl.read_ndjson(data, schema=schema)


@pytest.mark.parametrize("fmt", ["zip", "parquet", "json"])
def test_ih_formats_carry_the_generated_rows(ih, tmp_path, fmt):
    paths = write_ih(ih, tmp_path, fmt)
    expected = ih.drop(FILE_DAY)
    assert len(paths) == ih[FILE_DAY].n_unique()
    for path, (day, rows) in zip(paths, sorted(ih.partition_by(FILE_DAY, as_dict=True).items())):
        assert (f"{day[0]:%Y%m%d}" in path.name) or (f"Day={day[0]}" in str(path))
        assert_frame_equal(_read_ih(path, fmt, expected.schema), rows.drop(FILE_DAY), check_exact=True)


def _read_holdings(path: Path, fmt: str, schema: pl.Schema) -> pl.DataFrame:
    if fmt == "zip":
        return pl.read_ndjson(zipfile.ZipFile(path).read("data.json"), schema=schema)
    if fmt == "parquet":
        return pl.read_parquet(path)
    if fmt == "csv":
        return pl.read_csv(path, schema=schema)
    with duck.connect() as con:
        return con.execute("select * from read_xlsx(?, header = true)", [str(path)]).pl().cast(dict(schema))


@pytest.mark.parametrize("fmt", ["zip", "parquet", "csv", "xlsx"])
def test_holdings_formats_carry_the_generated_rows(holdings, tmp_path, fmt):
    paths = write_holdings(holdings, tmp_path, fmt)
    assert len(paths) == 1
    assert_frame_equal(_read_holdings(paths[0], fmt, holdings.schema), holdings, check_exact=True)


def test_unknown_format_is_refused(ih, tmp_path):
    with pytest.raises(ValueError, match="unknown format"):
        write_ih(ih, tmp_path, "csv")


# --- config and write_demo ----------------------------------------------------------------------

@pytest.mark.parametrize("ih_format,holdings_format",
                         list(itertools.product(["zip", "parquet", "json"], ["zip", "parquet", "csv", "xlsx"])))
def test_demo_config_is_the_template_with_file_keys_only(ih_format, holdings_format):
    template = tomllib.loads(template_toml())
    config = tomllib.loads(demo_config_toml(ih_format, holdings_format))
    # ... and the demo experiments' design declared (arms per customer, equal shares)
    design = {"randomization_unit": "SubjectID", "expected_split": {"Control": 1, "WeightA": 1, "WeightB": 1, "Orange": 1}}
    assert config["metrics"]["experiment"] == {**template["metrics"]["experiment"], **design}
    config["metrics"]["experiment"] = template["metrics"]["experiment"]
    assert config["metrics"] == template["metrics"] and config["reports"] == template["reports"]
    assert config["metrics"]["clv"]["filter"] == template["metrics"]["clv"]["filter"]
    file_keys = {"file_type", "file_pattern", "ih_group_pattern", "hive_partitioning", "file_group_pattern"}
    for table in ("ih", "holdings"):
        assert {k: v for k, v in config[table].items() if k not in file_keys} == \
               {k: v for k, v in template[table].items() if k not in file_keys}
    assert {k: v for k, v in config.items() if k not in ("ih", "holdings")} == \
           {k: v for k, v in template.items() if k not in ("ih", "holdings")}
    assert config["ih"]["file_pattern"] == f"**/*.{ih_format}"
    assert config["ih"]["hive_partitioning"] is (ih_format == "parquet")
    assert config["holdings"]["file_pattern"] == f"**/*.{holdings_format}"
    assert config["holdings"]["file_group_pattern"] == "(.*)"


def test_zip_config_differs_from_the_template_in_one_line_and_the_experiment_design():
    template, config = template_toml().splitlines(), demo_config_toml("zip", "zip").splitlines()
    added = EXPERIMENT_DESIGN.splitlines()
    at = config.index(added[0])
    assert config[at:at + len(added)] == added and template[at - 1].startswith("negative_model_response")
    config = config[:at] + config[at + len(added):]
    assert len(config) == len(template)
    assert [(a, b) for a, b in zip(template, config) if a != b] == [
        ('file_pattern = "**/*.json"', 'file_pattern = "**/*.zip"')]


def test_write_demo_writes_data_and_config_and_replaces_a_previous_run(tmp_path):
    first = write_demo(tmp_path, rows=5_000, days=10, ih_format="json", holdings_format="csv")
    assert first.ih_rows == 5_000 and first.holdings_rows > 0 and first.seconds > 0
    assert len(first.ih_paths) == 10 and all(p.parent == tmp_path / "ih" for p in first.ih_paths)
    assert first.holdings_paths == [tmp_path / "holdings" / "holdings.csv"]
    assert tomllib.loads(first.config_path.read_text())["ih"]["file_pattern"] == "**/*.json"
    second = write_demo(tmp_path, rows=2_000, days=5, ih_format="json", holdings_format="csv")
    assert sorted((tmp_path / "ih").iterdir()) == sorted(second.ih_paths) and len(second.ih_paths) == 5
