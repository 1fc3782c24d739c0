"""CLV marts: the SQL summary on CDNOW against the published fits, RFM quartiles with ties, the
segment presets, and two builds of generated holdings whose behaviour shifts between them
(incremental predictions, drift, `report clv` against numpy, tiers, clusters, contractual value)."""

from __future__ import annotations

import csv
import io
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy.special import hyp2f1

from python_udfs.clv import summary as numpy_summary
from python_udfs.clv.engine import population
from python_udfs.clv.engine.settings import ClvSettings
from valuemarts.api import Warehouse
from tests.api_build import build
from valuemarts.cli import main as cli_main
from valuemarts.clv_files import write_clv_files
from valuemarts.config.compiler import compile_config
from valuemarts.errors import ConfigErrors
from valuemarts.reports.templates import render

CDNOW = Path(__file__).parent / "data" / "CDNOW_sample.txt"
PROJECT_DIR = Path(__file__).resolve().parent.parent  # the repository: its dbt project
SEEDS = PROJECT_DIR / "seeds" / "rfm_segments.csv"
REPORT_COLUMNS = ["frequency", "recency", "T", "monetary_value", "expected_purchases", "lifetime_value",
                  "rfm_score", "rfm_segment", "value_tier", "cluster"]


def metric_config(name: str = "clv", **keys) -> dict:
    """A CLV metric as the compiler fills it from a minimal config (every other key defaulted)."""
    raw = {"ih": {"file_type": "parquet"}, "holdings": {"file_type": "csv"},
           "metrics": {"global_filters": [], name: {"group_by": [], **keys}}}
    return compile_config(raw, check_columns=False).dbt_vars["metrics"][name]


def summarise_in_sql(con: duckdb.DuckDBPyConnection, purchases: str, metric: dict, keys: list[str]) -> pl.DataFrame:
    """The models' path: observation window, purchase periods, summary, rendered from the same macros."""
    con.execute(f"create or replace table in_window as {render('clv_purchases_in_window', purchases, [metric])}")
    con.execute(f"create or replace table periods as {render('clv_purchase_periods', 'in_window', keys)}")
    return con.execute(render("clv_customer_summary", "periods", keys)).pl()


# --- CDNOW through the SQL summary ----------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_summary() -> pl.DataFrame:
    raw = np.loadtxt(CDNOW, dtype=str)
    rows = pl.DataFrame({"customer_id": raw[:, 0], "day": raw[:, 2], "spend": raw[:, 4].astype(float)})
    con = duckdb.connect()
    con.register("cdnow", rows)
    con.execute("""
        create table purchases as
        select 'clv_cdnow' as metric_name, customer_id, cast(row_number() over () as varchar) as holding_id,
               strptime(day, '%Y%m%d')::date as purchase_date, spend,
               cast(null as double) as recurring_cost, cast(null as double) as recurring_period
        from cdnow
    """)
    metric = metric_config("clv_cdnow", observation_end="1997-09-30", time_unit="weeks")
    return summarise_in_sql(con, "purchases", metric, ["metric_name", "customer_id"]).sort("customer_id")


def test_cdnow_sql_summary_matches_the_numpy_reference(cdnow_summary):
    raw = np.loadtxt(CDNOW, dtype=str)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    reference = numpy_summary.summarize(raw[:, 0], dates, raw[:, 4].astype(float), "1997-09-30", "weeks")
    assert cdnow_summary.height == 2357 and (cdnow_summary["frequency"] == 0).sum() == 1411
    assert cdnow_summary["customer_id"].to_list() == list(reference.customer_id)
    np.testing.assert_array_equal(cdnow_summary["frequency"].to_numpy(), reference.frequency)
    np.testing.assert_allclose(cdnow_summary["recency"].to_numpy(), reference.recency, rtol=1e-12)
    np.testing.assert_allclose(cdnow_summary["T"].to_numpy(), reference.T, rtol=1e-12)
    np.testing.assert_allclose(cdnow_summary["monetary_value"].fill_null(np.nan).to_numpy(),
                               reference.monetary_value, rtol=1e-12)


def test_cdnow_fits_match_the_published_parameters(cdnow_summary):
    """Fader, Hardie and Lee (2005) and Fader and Hardie (2013), through the fits the mart stores."""
    settings = ClvSettings.from_config(metric_config("clv_cdnow", time_unit="weeks"))
    results = {r.model: r for r in population.fit_models(cdnow_summary, pl.DataFrame(), settings)}
    bgnbd, gg = results["bgnbd"], results["gamma_gamma"]
    assert bgnbd.converged and gg.converged
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert bgnbd.params[name] == pytest.approx(published, rel=0.01), name
    assert bgnbd.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert gg.n_customers == 946
    for name, published in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert gg.params[name] == pytest.approx(published, rel=0.02), name
    fits = population.fits_frame(list(results.values()), settings, date(1997, 9, 30))
    assert fits.filter(pl.col("model") == "bgnbd")["value"].to_list() == list(bgnbd.params.values())


# --- RFM ------------------------------------------------------------------------------------------


def rfm(rows: list[tuple], partition: list[str], preset: str = "retail_banking") -> pl.DataFrame:
    con = duckdb.connect()
    con.execute(f"create table segments as select * from read_csv('{SEEDS}', all_varchar = true)")
    con.execute("create table summary (g varchar, customer_id varchar, inactive_days integer, frequency integer, "
                "avg_period_spend double)")
    con.executemany("insert into summary values (?, ?, ?, ?, ?)", rows)
    sql = render("clv_rfm_scores", "summary", partition, f"'{preset}'", "segments")
    return con.execute(sql).pl().sort("customer_id")


def test_rfm_quartiles_on_ties_skip_no_label():
    # Frequency: 6 of 10 customers at 0 -> the reference's breakpoints (0, 0, 1) give f in {1, 3, 4}.
    # Inactive days: tie blocks of 3, 3, 2, 2. Spend: all equal (one value, one label).
    frequency = [0, 0, 0, 0, 0, 0, 1, 1, 2, 3]
    inactive = [5, 5, 5, 40, 40, 40, 90, 90, 200, 200]
    rows = [("g", f"c{i}", inactive[i], frequency[i], 10.0) for i in range(10)]
    scored = rfm(rows, ["g"])
    assert scored["f_score"].to_list() == [1, 1, 1, 1, 1, 1, 2, 2, 3, 4]
    assert scored["r_score"].to_list() == [4, 4, 4, 3, 3, 3, 2, 2, 1, 1]  # fewer inactive days: higher r
    assert scored["m_score"].to_list() == [1] * 10
    assert scored["rfm_code"][0] == "411" and scored["rfm_score"][0] == 2.0
    assert scored["rfm_segment"][9] == "Dormant Accounts"  # m = 1


def test_rfm_quartiles_are_rank_quartiles_without_ties_and_per_group():
    rows = [("a", f"a{i}", i, i, float(i)) for i in range(8)] + [("b", f"b{i}", 0, 7, 1.0) for i in range(3)]
    scored = rfm(rows, ["g"])
    a = scored.filter(pl.col("g") == "a")
    assert a["f_score"].to_list() == [1, 1, 2, 2, 3, 3, 4, 4]  # ntile(4)
    assert a["r_score"].to_list() == [4, 4, 3, 3, 2, 2, 1, 1]
    assert scored.filter(pl.col("g") == "b")["f_score"].to_list() == [1, 1, 1]  # its own scope
    pooled = rfm(rows, [])
    assert pooled.filter(pl.col("g") == "b")["f_score"].to_list() == [4, 4, 4]


def test_rfm_labels_cover_one_to_four_whenever_four_values_exist():
    rng = np.random.default_rng(3)
    for trial in range(20):
        values = rng.geometric(rng.uniform(0.2, 0.9), size=int(rng.integers(4, 60))) - 1
        rows = [("g", f"c{i:03d}", 0, int(v), 1.0) for i, v in enumerate(values)]
        scored = rfm(rows, ["g"])
        labels = sorted(set(scored["f_score"]))
        assert labels == list(range(1, min(4, len(set(values))) + 1)), (trial, values)
        by_value = scored.group_by("frequency").agg(pl.col("f_score").unique()).sort("frequency")
        assert all(len(v) == 1 for v in by_value["f_score"])  # ties share a label
        assert by_value["f_score"].list.first().is_sorted()


def test_segment_presets_do_not_overlap():
    with SEEDS.open() as fh:
        rows = list(csv.DictReader(fh))
    for preset in ("retail_banking", "telco", "e-commerce", "legacy"):
        codes = [r["rfm_code"] for r in rows if r["preset"] == preset]
        assert sorted(codes) == sorted(f"{r}{f}{m}" for r in "1234" for f in "1234" for m in "1234"), preset
    segment = {(r["preset"], r["rfm_code"]): r["rfm_segment"] for r in rows}
    assert segment["retail_banking", "444"] == "Wealth Champions"
    assert segment["retail_banking", "343"] == "Premier Clients"
    assert segment["telco", "324"] == "Potential Upsell Group"
    assert segment["e-commerce", "244"] == "At-Risk Shoppers"  # the reference's overwritten "loyal" code
    assert segment["retail_banking", "441"] == "Dormant Accounts"
    assert sum(1 for (p, _), s in segment.items() if p == "legacy" and s != "Unknown") == 47
    assert segment["legacy", "414"] == "Top Spender" and segment["legacy", "421"] == "Unknown"


# --- two builds: behaviour shifts after the first ---------------------------------------------------

SHIFT = date(2023, 7, 1)
CONFIG = """
[ih]
file_type = "pega_ds_export"
file_pattern = "**/*.zip"
ih_group_pattern = "(.*)"

[ih.extensions]
filter = ""
columns = ""

[holdings]
file_type = "csv"
file_pattern = "**/*.csv"
file_group_pattern = "(.*)"

[holdings.extensions]
filter = ""
columns = "[pl.col('PurchasedDate').str.strptime(pl.Datetime, '%Y%m%dT%H%M%S%.3f %Z').dt.date().alias('PurchasedDateTime')]"

[metrics]
global_filters = []

[metrics.clv]
group_by = ["ControlGroup"]
customer_id_col = "CustomerID"
purchase_date_col = "PurchasedDateTime"
rfm_segment_config = "telco"
grid_history_months = [6, 12]
holdout_folds = 2

[metrics.clv_contract]
group_by = []
customer_id_col = "CustomerID"
purchase_date_col = "PurchasedDateTime"
model = "contractual"
grid_history_months = [12]
holdout_folds = 2
"""


@dataclass(frozen=True)
class Built:
    root: Path
    warehouse: Path
    holdings: pl.DataFrame

    def frame(self, sql: str) -> pl.DataFrame:
        return Warehouse.open(self.warehouse).sql(sql)


@pytest.fixture(scope="module")
def shifted(tmp_path_factory) -> Built:
    """Holdings to 2023-06-30 built first, then the second half-year, where customers buy twice as
    often and spend twice as much, added in a second build of the same warehouse."""
    from valuemarts.demo import generate_holdings

    root = tmp_path_factory.mktemp("clv")
    holdings = generate_holdings(seed=3, customers=3000, start=date(2020, 7, 1), end=date(2024, 1, 1),
                                 shift_date=SHIFT, shift_factor=2.0)
    before = pl.col("pyPurchasedDate") < "20230701"
    (root / "holdings").mkdir()
    holdings.filter(before).write_csv(root / "holdings" / "first.csv")
    (root / "config.toml").write_text(CONFIG)
    warehouse = root / "warehouse.duckdb"
    build(root / "config.toml", warehouse, None, [str(root / "holdings" / "first.csv")], log=lambda m: None)
    holdings.filter(~before).write_csv(root / "holdings" / "second.csv")
    build(root / "config.toml", warehouse, None, [str(root / "holdings")], log=lambda m: None)
    return Built(root, warehouse, holdings)


def test_predictions_append_per_cutoff_and_the_champion_stays(shifted):
    runs = shifted.frame("select metric_name, cutoff, model_id, count(*) as n from marts.mart_clv__predictions "
                         "group by all order by all")
    assert runs.filter(pl.col("metric_name") == "clv")["cutoff"].to_list() == [date(2023, 6, 30), date(2023, 12, 31)]
    assert runs["model_id"].n_unique() == 2  # one champion per metric, used for both runs
    manifest = shifted.frame("select * from marts.mart_clv__champion_manifest")
    assert manifest.height == 2 and manifest["train_cutoff"].to_list() == [date(2022, 12, 30)] * 2
    cards = shifted.frame("select model_id, metric_name, is_champion, history_months, pred_months "
                          "from marts.mart_clv__model_cards")
    assert cards.height == 4 and set(manifest["model_id"]) == set(cards.filter("is_champion")["model_id"])
    written = write_clv_files(shifted.warehouse)
    for model_id in cards["model_id"]:
        card = shifted.root / "clv_model_cards" / f"{model_id}.json"
        assert card in written and card.exists()
    grid = shifted.frame("select * from marts.mart_clv__window_grid where metric_name = 'clv'")
    assert sorted(set(zip(grid["history_months"], grid["pred_months"]))) == [(6, 6), (12, 6)]
    assert grid.filter("is_best").height == 2 and grid["rmse"].is_not_null().all()


def test_the_shift_is_flagged_as_drift_with_an_alert(shifted):
    drift = shifted.frame("select * from marts.mart_clv__drift where metric_name = 'clv'")
    assert drift.height == 1 and drift["cutoff"][0] == date(2023, 6, 30)
    row = drift.row(0, named=True)
    assert row["is_drift"] and row["rmse_increase"] > 0.2, row
    alert = Path(row["alert_path"])
    assert alert == shifted.root / "clv_alerts" / "clv_drift_clv_20230630.md"
    assert alert in write_clv_files(shifted.warehouse) and alert.exists()


def report(warehouse: Path, *args: str) -> pl.DataFrame:
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli_main(["report", "clv", "--warehouse", str(warehouse), "--format", "csv", *args]) == 0
    return pl.read_csv(io.StringIO(out.getvalue()), infer_schema_length=None)


def test_report_clv_columns_and_numbers_match_numpy(shifted):
    table = report(shifted.warehouse, "--by", "ControlGroup")
    assert table.columns == ["ControlGroup", "CustomerID", *REPORT_COLUMNS]
    assert table.height == shifted.holdings["CustomerID"].n_unique()
    fits = shifted.frame("select parameter, value from marts.mart_clv__model_fits where metric_name = 'clv'")
    params = dict(zip(fits["parameter"], fits["value"]))
    raw = shifted.holdings.with_columns(
        day=pl.col("pyPurchasedDate").str.slice(0, 8).str.strptime(pl.Date, "%Y%m%d"))
    end = raw["day"].max()
    by_customer = raw.group_by("CustomerID").agg(pl.len().alias("rows"), pl.col("day").n_unique().alias("days"))
    picks = [by_customer.filter(pl.col("days") == d).sort("CustomerID")["CustomerID"][0] for d in (1, 2, 5)]
    picks.append(by_customer.filter(pl.col("rows") > pl.col("days")).sort("CustomerID")["CustomerID"][0])
    horizon = 12 * 365.25 / 12 / 7  # 12 months in weeks
    for customer in picks:
        rows = raw.filter(pl.col("CustomerID") == customer)
        days = np.unique(rows["day"].to_numpy())
        spend = np.array([rows.filter(pl.col("day") == d)["OneTimeCost"].sum() for d in days])
        x = len(days) - 1
        t_x = (days[-1] - days[0]).astype(int) / 7
        T = (np.datetime64(end) - days[0]).astype(int) / 7
        m = spend[1:].mean() if x else np.nan
        got = table.filter(pl.col("CustomerID") == customer).row(0, named=True)
        assert (got["frequency"], got["recency"], got["T"]) == (x, pytest.approx(t_x), pytest.approx(T)), customer
        assert got["monetary_value"] == (pytest.approx(m) if x else None)
        purchases = expected_purchases(params, horizon, x, t_x, T)
        assert got["expected_purchases"] == pytest.approx(purchases, rel=1e-9), customer
        p, q, v = params["p"], params["q"], params["v"]
        spend_per_purchase = p * (v + x * (m if x else 0.0)) / (p * x + q - 1)
        assert got["lifetime_value"] == pytest.approx(purchases * spend_per_purchase, rel=1e-9), customer


def expected_purchases(params: dict, t: float, x: int, t_x: float, T: float) -> float:
    """BG/NBD eq. 10 written out directly (Fader, Hardie and Lee 2005), for moderate x."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    head = (a + b + x - 1) / (a - 1)
    tail = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    dead = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
    return head * tail / (1 + dead)


def test_report_regroups_and_filters(shifted):
    grouped = report(shifted.warehouse, "--by", "ControlGroup")
    pooled = report(shifted.warehouse)
    assert pooled.columns == ["CustomerID", *REPORT_COLUMNS]
    # each customer is in one ControlGroup, so merging the groups keeps her numbers (up to the
    # order DuckDB adds floats in)
    assert_frame_equal(grouped.drop("ControlGroup", "rfm_score", "rfm_segment").sort("CustomerID"),
                       pooled.drop("rfm_score", "rfm_segment").sort("CustomerID"), check_exact=False, rel_tol=1e-9)
    test_only = report(shifted.warehouse, "--by", "ControlGroup", "--where", "ControlGroup == 'Control'")
    assert set(test_only["ControlGroup"]) == {"Control"}
    assert test_only.height == grouped.filter(pl.col("ControlGroup") == "Control").height


def test_tiers_clusters_and_rfm_in_the_customer_mart(shifted):
    customers = shifted.frame("select * from marts.mart_clv__customers where metric_name = 'clv'")
    n = customers.height
    counts = dict(customers.group_by("value_tier").len().iter_rows())
    assert counts == {"Top 1%": int(0.01 * n), "Top 5%": int(0.05 * n) - int(0.01 * n),
                      "Top 10%": int(0.10 * n) - int(0.05 * n), "Top 20%": int(0.20 * n) - int(0.10 * n),
                      "Others": n - int(0.20 * n)}
    ordered = customers.sort("value_rank")
    assert ordered["predicted_value"].is_sorted(descending=True)
    clusters = shifted.frame("select * from marts.mart_clv__clusters where metric_name = 'clv' "
                             "and cutoff = (select max(cutoff) from marts.mart_clv__clusters) order by cluster")
    assert clusters["cluster"].to_list() == [1, 2, 3, 4]
    assert clusters["median_predicted_value"].is_sorted(descending=True)
    assert clusters["clv_index"][0] > 100 > clusters["clv_index"][3]
    for _, group in customers.group_by("ControlGroup"):
        distinct = group["frequency"].n_unique()
        assert sorted(group["f_score"].unique()) == list(range(1, min(4, distinct) + 1))
    assert set(customers["rfm_segment"]) <= {"Platinum Subscribers", "Engaged Subscribers",
                                              "Potential Upsell Group", "Churn Risk", "Dormant Lines"}


def test_contractual_metric_values_subscriptions(shifted):
    fits = shifted.frame("select * from marts.mart_clv__model_fits where metric_name = 'clv_contract'")
    assert set(fits["model"]) == {"bgnbd", "gamma_gamma", "sbg"}
    customers = shifted.frame("select * from marts.mart_clv__customers where metric_name = 'clv_contract'")
    basis = "sbg" if fits.filter(pl.col("model") == "sbg")["converged"].all() else "lifespan"
    with_contracts = customers.filter(pl.col("recurring_basis").is_not_null())
    assert with_contracts.height > 0 and set(with_contracts["recurring_basis"]) == {basis}
    assert (with_contracts["recurring_clv"] >= 0).all()
    np.testing.assert_allclose(with_contracts["lifetime_value"].to_numpy(),
                               (with_contracts["one_off_value"] + with_contracts["recurring_clv"]).to_numpy())
    quarters = shifted.frame("select sum(recurring_value) as r from marts.mart_clv__customer_quarters "
                             "where metric_name = 'clv_contract'")
    assert quarters["r"][0] > 0



def test_clv_config_keys_have_defaults_and_key_path_errors():
    defaults = metric_config()
    assert (defaults["time_unit"], defaults["horizon_months"], defaults["pred_months"], defaults["history_months"],
            defaults["rfm_segment_config"], defaults["tier_labels"][-1]) == ("weeks", 12, 6, 12, "legacy", "Others")
    raw = {"ih": {"file_type": "parquet"}, "holdings": {"file_type": "csv"},
           "metrics": {"global_filters": [], "clv": {
               "group_by": [], "time_unit": "months", "rfm_segment_config": "retail", "tier_shares": [0.2, 0.1],
               "observation_end": "31/12/2024", "drift_r2_decrease": -1, "n_clusters": 2.5}}}
    with pytest.raises(ConfigErrors) as caught:
        compile_config(raw, check_columns=False)
    message = str(caught.value)
    for key in ("time_unit", "rfm_segment_config", "tier_shares", "observation_end", "drift_r2_decrease", "n_clusters"):
        assert f"metrics.clv.{key}" in message, key
