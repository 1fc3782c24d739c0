"""Descriptive statistics against numpy on the raw export rows.

Staged rows are derived here in polars from the demo's zip exports (all outcomes, template
defaults, global filter, dedup, ResponseTime with milliseconds); means and variances must match
numpy to 1e-9 relative at every grain, percentiles within 1% rank. The hand-configured warehouse
of tests/test_model_quality.py adds missing values and a constant column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from test_model_quality import (EXTRA_DEFAULTS, FILE_DAY, TEMPLATE_DEFAULTS, by_group, extra_raw, keyed,
                                read_zip_exports, report, small_warehouse, staged)

QUANTILES = {"p25": 0.25, "Median": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95}
RANK_TOLERANCE = 0.01
NUMERIC = ["Propensity", "FinalPropensity", "Priority", "ResponseTime"]
TEMPLATE_DESCRIPTIVE_DEFAULTS = {**TEMPLATE_DEFAULTS, "Priority": 1e-10, "Weight": 0.0, "OutcomeWeight": 0.0}


def with_response_time(rows: pl.DataFrame) -> pl.DataFrame:
    """ResponseTime = OutcomeTime - DecisionTime in seconds, milliseconds kept."""
    decided = pl.col("DecisionTime").str.strptime(pl.Datetime("ms", "UTC"), "%Y%m%dT%H%M%S%.3f GMT")
    return rows.with_columns(ResponseTime=(pl.col("OutcomeTime") - decided).dt.total_milliseconds() / 1000)


def rank_error(sorted_x: np.ndarray, estimate: float, q: float) -> float:
    """How far, in ranks / n, the estimate sits from numpy's linear quantile at position q (n - 1).

    The estimate's position among the order statistics is interpolated between neighbours, or is
    the whole run of positions when it equals tied values; small groups, which the digest holds
    exactly, then score 0 rather than up to 1/n.
    """
    n = len(sorted_x)
    first = np.searchsorted(sorted_x, estimate, "left")
    last = np.searchsorted(sorted_x, estimate, "right") - 1
    if first <= last:
        low, high = first, last
    elif first in (0, n):
        low = high = min(first, n - 1)
    else:
        low = high = last + (estimate - sorted_x[last]) / (sorted_x[first] - sorted_x[last])
    target = q * (n - 1)
    return max(0.0, low - target, target - high) / n


def check_column(row: dict, column: str, values: np.ndarray) -> None:
    """Every score of `column` in a report row against numpy on the group's non-null values."""
    x = np.sort(values[~np.isnan(values)])
    assert row[f"{column}_Count"] == len(x)
    assert row[f"{column}_Sum"] == pytest.approx(x.sum(), rel=1e-9, abs=1e-12)
    assert row[f"{column}_Mean"] == pytest.approx(x.mean(), rel=1e-9, abs=1e-15)
    assert row[f"{column}_Min"] == pytest.approx(x[0], rel=1e-12)  # ResponseTime: ms arithmetic differs by an ulp
    assert row[f"{column}_Max"] == pytest.approx(x[-1], rel=1e-12)
    if len(x) > 1:
        assert row[f"{column}_Var"] == pytest.approx(x.var(ddof=1), rel=1e-9, abs=1e-15)
        assert row[f"{column}_Std"] == pytest.approx(x.std(ddof=1), rel=1e-9, abs=1e-15)
    else:
        assert row[f"{column}_Var"] is None and row[f"{column}_Std"] is None
    for score, q in QUANTILES.items():
        assert rank_error(x, row[f"{column}_{score}"], q) <= RANK_TOLERANCE
    p25, median, p75 = row[f"{column}_p25"], row[f"{column}_Median"], row[f"{column}_p75"]
    if p75 == p25:
        assert row[f"{column}_Skew"] is None
    else:
        assert row[f"{column}_Skew"] == pytest.approx((p75 + p25 - 2 * median) / (p75 - p25), abs=1e-12)


@pytest.fixture(scope="module")
def demo_rows(demo_warehouse) -> pl.DataFrame:
    return with_response_time(staged(read_zip_exports(demo_warehouse.data / "ih"), TEMPLATE_DESCRIPTIVE_DEFAULTS))


@pytest.mark.parametrize("by", [[], ["Channel", "Outcome"]], ids=["whole", "channel_outcome"])
def test_scores_match_numpy(demo_warehouse, demo_rows: pl.DataFrame, by: list[str]) -> None:
    got = keyed(report(demo_warehouse.warehouse, "descriptive", by), by)
    assert len(got) == len(dict(by_group(demo_rows, by)))
    for key, part in by_group(demo_rows, by):
        for column in NUMERIC:
            check_column(got[key], column, part[column].cast(pl.Float64).fill_null(np.nan).to_numpy())


def test_mean_and_variance_at_the_marts_fine_grain(demo_warehouse, demo_rows: pl.DataFrame) -> None:
    """At the configured grain (day x channel x ... x outcome) most cells hold a handful of rows."""
    group_by = ["Day", "Channel", "PlacementType", "PropensitySource", "Issue", "Group", "Outcome"]
    mart = demo_warehouse.frame("select * from marts.mart_descriptive where metric_name = 'descriptive'")
    got = keyed(mart, group_by)
    assert len(got) == len(dict(by_group(demo_rows, group_by)))
    for key, part in by_group(demo_rows, group_by):
        x = part["ResponseTime"].to_numpy()
        row = got[key]
        assert row["ResponseTime_Count"] == len(x)
        assert row["ResponseTime_Mean"] == pytest.approx(x.mean(), rel=1e-9)
        if len(x) > 1:
            assert row["ResponseTime_Var"] == pytest.approx(x.var(ddof=1), rel=1e-9, abs=1e-12)


def test_outcome_counts_for_the_funnel(demo_warehouse, demo_rows: pl.DataFrame) -> None:
    got = keyed(report(demo_warehouse.warehouse, "descriptive", ["Outcome"], prop="Outcome"), ["Outcome"])
    expected = dict(demo_rows.group_by("Outcome").len().iter_rows())
    assert {k[0]: row["Outcome_Count"] for k, row in got.items()} == expected
    assert all(row["Outcome_Mean"] is None for row in got.values())


def test_text_column_has_count_only(demo_warehouse) -> None:
    columns = report(demo_warehouse.warehouse, "descriptive", [], prop="Outcome").columns
    assert columns[0] == "Outcome_Count" and all(c.startswith("Outcome_") for c in columns)


# ---- the hand-configured warehouse ----------------------------------------------------------------

@pytest.fixture(scope="module")
def small(demo_warehouse, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    warehouse = small_warehouse(demo_warehouse.data, tmp_path_factory.getbasetemp())
    return warehouse, with_response_time(staged(extra_raw().drop(FILE_DAY), EXTRA_DEFAULTS))


def test_missing_values_are_not_counted(small) -> None:
    warehouse, rows = small
    got = keyed(report(warehouse, "descriptive", ["Outcome"], prop="Priority"), ["Outcome"])
    assert rows["Priority"].null_count() > 0
    for key, part in by_group(rows, ["Outcome"]):
        check_column(got[key], "Priority", part["Priority"].fill_null(np.nan).to_numpy())


def test_variance_survives_a_large_offset(small) -> None:
    """Score = 10 000 + Propensity: sum(x^2) - n mean^2 loses about 8 of 16 digits to the offset
    (shown below), Chan's merge of per-cell (n, mean, M2) keeps the variance to 1e-9."""
    warehouse, rows = small
    got = keyed(report(warehouse, "descriptive", ["Outcome"], prop="Score"), ["Outcome"])
    for key, part in [*by_group(rows, ["Outcome"]), ((), rows)]:
        x = part["Score"].drop_nulls().to_numpy()
        row = got[key] if key else report(warehouse, "descriptive", [], prop="Score").row(0, named=True)
        assert row["Score_Var"] == pytest.approx(x.var(ddof=1), rel=1e-9)
    x = rows["Score"].drop_nulls().to_numpy()
    naive = (np.sum(x * x) - len(x) * x.mean() ** 2) / (len(x) - 1)
    assert abs(naive / x.var(ddof=1) - 1) > 1e-7


def test_constant_column_has_zero_variance_and_no_skew(small) -> None:
    warehouse, rows = small
    got = report(warehouse, "descriptive", [], prop="Weight").row(0, named=True)
    assert got["Weight_Count"] == rows.height
    assert (got["Weight_Var"], got["Weight_Median"], got["Weight_p95"]) == (0.0, 0.0, 0.0)
    assert got["Weight_Skew"] is None


def test_configured_scores_and_outcome_for_the_funnel(small) -> None:
    """Columns are `<Column>_<Score>`: Count first, then the configured scores in their order;
    Outcome is described because it is grouped; use_t_digest = false still gives percentiles."""
    warehouse, rows = small
    got = report(warehouse, "descriptive", ["Outcome"])
    assert got.columns[:4] == ["Outcome", "Propensity_Count", "Propensity_Mean", "Propensity_Median"]
    assert got.columns[-1] == "Outcome_Sum"
    assert dict(zip(got["Outcome"], got["Outcome_Count"])) == dict(rows.group_by("Outcome").len().iter_rows())
    assert got["Propensity_Median"].null_count() == 0


def test_second_metric_applies_its_filter(small) -> None:
    warehouse, rows = small
    clicks = rows.filter(pl.col("Outcome") == "Clicked")
    got = report(warehouse, "descriptive_clicks", []).row(0, named=True)
    assert got["Outcome_Count"] == clicks.height
    assert got["Propensity_Mean"] == pytest.approx(clicks["Propensity"].mean(), rel=1e-9)
    assert list(got) == ["Outcome_Count", "Outcome_Mean", "Propensity_Count", "Propensity_Mean"]
