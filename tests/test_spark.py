"""The same dbt project on Spark: the demo built on DuckDB and on Spark gives the same IH and CLV
marts, CLV engine included, and the same reports (README "Running on Spark"). Needs the [spark]
extra and Java; `make test` installs the extra, so CI runs it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from valuemarts.api import Warehouse
from valuemarts.demo import write_demo
from valuemarts.spark.build import build_spark

pytestmark = pytest.mark.slow

# Every model the IH and CLV marts are made of, staging included: the CLV Python models (fits,
# values, model cards, predictions, drift) run by the Spark launcher on the summary it read from
# Spark, and the marts dbt builds from them. The demo has no contracts (a non-contractual metric)
# and one scoring run, which no data after it has matured: int_clv__contracts and the drift and
# actuals marts are empty on both engines, and only their columns are compared.
MODELS = {
    "staging": ["stg_pega__interactions"],
    "intermediate": ["int_ih__interactions", "int_ih__labelled_interactions", "int_clv__purchases",
                     "int_clv__customer_summary", "int_clv__contracts", "int_clv__model_fits",
                     "int_clv__customer_values", "int_clv__model_cards", "int_clv__predictions", "int_clv__drift"],
    "marts": ["mart_engagement", "mart_engagement__state", "mart_conversion", "mart_conversion__state",
              "mart_experiment", "mart_experiment__state", "mart_experiment__unit_state", "mart_model_ml_scores",
              "mart_model_ml_scores__state", "mart_model_ml_scores__action_state", "mart_descriptive",
              "mart_descriptive__state", "mart_clv__purchase_periods", "mart_clv__customer_quarters",
              "mart_clv__yearly_value", "mart_clv__model_fits", "mart_clv__customers", "mart_clv__model_cards",
              "mart_clv__champion_manifest", "mart_clv__window_grid", "mart_clv__predictions", "mart_clv__clusters",
              "mart_clv__prediction_actuals", "mart_clv__drift"],
}
# Columns that are engine artefacts, not results: row keys (a 128-bit number on DuckDB, md5 text
# on Spark), the run id, the state's serialised digests and score maps, whose contents the marts'
# AUC and percentiles check, the wall clock a CLV model was trained at, and a model card's window
# grid (JSON text) and pickled model, whose contents mart_clv__window_grid and the predictions
# check: sums over rows in another order move their doubles in the last digit.
# The CLV optimiser's own path (its stopping message and iteration count) is an artefact too: an
# input that differs in its last digit (a Spark sum, or rows in another order) can end L-BFGS-B on
# another of its stopping rules.
ENGINE_COLUMNS = {"_row_key", "_interaction_key", "_built_by", "value_digest", "score_digest", "score_counts",
                  "trained_at", "promoted_at", "grid_json", "model_state", "message", "iterations"}
# What the CLV models compute from fitted parameters: equal within the fit's convergence tolerance
# (L-BFGS-B, gtol 1e-8), as tests/test_load_and_plain_dbt.py compares two DuckDB builds.
FITTED_COLUMNS = {"value", "log_likelihood", "p_alive", "expected_purchases", "expected_spend", "one_off_value",
                  "expected_renewals", "recurring_clv", "lifetime_value", "baseline_rmse", "baseline_r2", "value_cap",
                  "predicted_value", "clv_index", "rmse", "r2", "median_predicted_value", "mean_predicted_value"}
FIT_TOLERANCE = 1e-5
# The gradient-boosted challenger's holdout figures (rows whose model_type is BOOSTER): its trees
# split between sorted input values, one input being the baseline's prediction, which the engines
# give equal to FIT_TOLERANCE only, so a split can move and its RMSE shift by far more than the
# input did (0.06% seen). Which model is champion and all it predicts stay compared exactly and at
# FIT_TOLERANCE; the challenger's figures to BOOSTER_TOLERANCE.
BOOSTER = "gradient_boosting"
BOOSTER_TOLERANCE = 1e-2
AUC_COLUMNS = {"roc_auc", "average_precision", "roc_auc_tdigest", "average_precision_tdigest"}
PERCENTILE_SUFFIXES = ("_Median", "_p25", "_p75", "_p90", "_p95", "_Skew")
# The t-digest's documented rank bound (docs/metrics.md): a percentile within 1% of rank.
RANK_BOUND = 0.01


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The small demo (5,000 IH rows over 5 days, holdings) built on DuckDB and on Spark."""
    root = tmp_path_factory.mktemp("spark")
    write_demo(root / "data", rows=5_000, seed=5, days=5, ih_format="zip", holdings_format="csv")
    config, ih, holdings = root / "data" / "config.toml", root / "data" / "ih", root / "data" / "holdings"
    duck = root / "warehouse.duckdb"
    Warehouse(duck, read_only=False).build(config, ih=ih, holdings=holdings)
    spark = root / "spark"
    # The models only: the DuckDB build above runs the data tests, and the comparison below checks
    # every Spark model against it (the tests would add a Spark job each, a third of the time).
    build_spark(config, spark, [str(ih)], [str(holdings)], log=lambda _message: None, data_tests=False)
    return duck, spark


def test_spark_builds_the_same_ih_and_clv_marts(built: tuple[Path, Path]):
    duck, spark_root = built
    from valuemarts.spark.session import SparkWarehouse, spark_session

    spark = spark_session(SparkWarehouse(spark_root))
    try:
        for schema, models in MODELS.items():
            for model in models:
                theirs = pl.from_arrow(spark.table(f"{schema}.{model}").toArrow())
                ours = Warehouse.open(duck).sql(f"select * from {schema}.{model}")
                assert_same_rows(model, ours, theirs)
    finally:
        spark.stop()


def test_spark_report_equals_the_duckdb_report(built: tuple[Path, Path]):
    duck, spark_root = built
    ours = Warehouse.open(duck).report("engagement", by="Channel")
    theirs = Warehouse.open(spark_root, target="spark").report("engagement", by="Channel")
    assert_same_rows("report engagement --by Channel", ours, theirs)


def test_spark_clv_report_equals_the_duckdb_report(built: tuple[Path, Path]):
    duck, spark_root = built
    ours = Warehouse.open(duck).report("clv", by="ControlGroup")
    theirs = Warehouse.open(spark_root, target="spark").report("clv", by="ControlGroup")
    assert ours["value_tier"].null_count() < ours.height, "no customer has a value tier: the CLV engine did not score"
    assert_same_rows("report clv --by ControlGroup", ours, theirs)


def test_spark_build_writes_the_clv_model_cards(built: tuple[Path, Path]):
    duck, spark_root = built
    ours = sorted(path.name for path in (duck.parent / "clv_model_cards").glob("*.json"))
    theirs = sorted(path.name for path in (spark_root / "clv_model_cards").glob("*.json"))
    assert ours and theirs == ours


def assert_same_rows(name: str, ours: pl.DataFrame, theirs: pl.DataFrame) -> None:
    """Same columns and rows: counts, text, dates exact; statistics to 1e-9 relative; AUC and AP to
    1e-4; percentiles within the t-digest's rank bound of the column's spread; what the CLV models
    compute from fitted parameters to 1e-5 relative (the boosted challenger's to 1e-2)."""
    assert sorted(ours.columns) == sorted(theirs.columns), name
    columns = [c for c in ours.columns if c not in ENGINE_COLUMNS]
    floats = [c for c in columns if ours.schema[c].is_float() or theirs.schema[c].is_float()
              or ours.schema[c].is_decimal() or theirs.schema[c].is_decimal()]
    keys = [c for c in columns if c not in floats and not isinstance(ours.schema[c], (pl.List, pl.Struct, pl.Array))]
    ours = ours.select(columns).with_columns(pl.col(floats).cast(pl.Float64))
    theirs = theirs.select(columns).with_columns(pl.col(floats).cast(pl.Float64))
    theirs = theirs.with_columns([pl.col(c).cast(ours.schema[c]) for c in keys])
    assert ours.height == theirs.height, f"{name}: {ours.height} rows on DuckDB, {theirs.height} on Spark"
    ours, theirs = ours.sort(keys, nulls_last=True), theirs.sort(keys, nulls_last=True)
    for column in keys:
        assert ours[column].to_list() == theirs[column].to_list(), f"{name}.{column}"
    booster_rows = (ours["model_type"] == BOOSTER).to_numpy() if "model_type" in keys else np.zeros(ours.height, bool)
    for column in floats:
        a, b = ours[column].to_numpy(), theirs[column].to_numpy()
        assert ((a != a) == (b != b)).all(), f"{name}.{column}: NULL on one engine only"
        known = a == a
        if column in AUC_COLUMNS:
            tolerance = 1e-4 + 0 * abs(a[known])
        elif column in FITTED_COLUMNS:
            relative = np.where(booster_rows, BOOSTER_TOLERANCE, FIT_TOLERANCE)[known]
            tolerance = relative * abs(a[known]) + 1e-9
        elif column.endswith(PERCENTILE_SUFFIXES):
            spread = abs(ours[column].max() - ours[column].min()) if known.any() else 0.0
            tolerance = RANK_BOUND * spread + 1e-9 * abs(a[known])
        else:
            tolerance = 1e-9 * abs(a[known]) + 1e-12
        worst = abs(a[known] - b[known]) - tolerance
        assert (worst <= 0).all(), f"{name}.{column}: differs by {abs(a[known] - b[known]).max()}"
