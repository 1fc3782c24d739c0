"""Column names from export files and the config are data, never SQL or Jinja.

A small warehouse is built from an IH export whose columns carry an SQL injection (it would
read a marker file into the warehouse), quotes, Jinja delimiters, a statement separator, unicode
and a 300-character name; the config groups, filters, derives and defaults with them. The build
must succeed, nothing of the marker file may land anywhere, every name must come out exactly as
written, and the numbers per hostile group must be the raw rows' counts. More small builds: the
injection in the export alone, a name outside the BMP in the config, and holdings whose CLV
columns all have hostile names.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import duckdb
import jinja2
import pytest

from tests.pega_files import MINIMAL_CONFIG, export_name, ih_row, write_export_zip
from tests.api_build import build
from valuemarts.api import Warehouse
from valuemarts.cli import main
from valuemarts.duck import connect
from valuemarts.sql_names import quote_ident

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the repository and its dbt project

MARKER = "HOSTILE-NAMES-MARKER-5c1e0a"
# Staged as `"X" , (select ...) as "Leak" , "X" as "X" , ...`: the file's content in a column.
INJECTION = "X\" , (select string_agg(content,'|') from read_text('{marker}')) as \"Leak\" , \"X"
QUOTED = 'Chan"nel'
JINJA_EXPR = "{{ 7*7 }}"
JINJA_TAG = "{% raw %}"
STATEMENTS = ";drop table x;--"
ASTRAL = "Canal_été_🚀"  # outside the BMP: JSON writes it as a surrogate pair
ACCENTED = "Groupe_été_ß"
LONG = "Long_" + "n" * 295
APOSTROPHE = "O'Brien"
DERIVED = 'Arm"copy'
DEFAULTED = "Def\"ault{{ 1 }}"
ENGAGEMENT = "engagement_it's"
ROWS = 240


def _value(name: str, i: int):
    """Each hostile column's value in row i; values are hostile too, but they are never SQL."""
    return {
        QUOTED: ['Web"', "Mob'ile", "{{ 8*8 }}"][i % 3],
        JINJA_EXPR: ["a", "b"][i % 2],
        JINJA_TAG: "Exp1",
        ACCENTED: ["Control", "Test"][(i // 2) % 2],
        ASTRAL: "🚀",
        STATEMENTS: ["d0", "d1"][i % 5 == 0],
        LONG: ["l0", "l1", "l2"][i % 4 % 3],
        APOSTROPHE: i * 0.5,
        "X": "x",
    }[name]


def _toml(value) -> str:
    """A TOML basic string or array (JSON's escapes are TOML's; unicode stays literal)."""
    return json.dumps(value, ensure_ascii=False)


def _config(injection: str) -> str:
    return f"""
[ih]
file_type = "pega_ds_export"
file_pattern = "**/*.zip"
ih_group_pattern = "(.*)"

[ih.extensions]
filter = {_toml(f"pl.col('{QUOTED}').is_not_null()")}
columns = {_toml(f"[pl.col('{ACCENTED}').alias('{DERIVED}')]")}

[ih.extensions.default_values]
ExperimentName = 'N/A'
ExperimentGroup = 'N/A'
{_toml(DEFAULTED)} = 'dv'

[holdings]
file_type = "pega_ds_export"
file_pattern = "**/*.zip"
file_group_pattern = "(.*)"

[holdings.extensions]
filter = ""
columns = ""

[metrics]
global_filters = {_toml([injection, STATEMENTS])}

[metrics.{_toml(ENGAGEMENT)}]
group_by = {_toml([QUOTED, JINJA_EXPR, LONG])}
positive_model_response = ["Clicked"]
negative_model_response = ["Impression"]

[metrics.conversion]
group_by = {_toml([QUOTED, DERIVED])}
positive_model_response = ["Clicked"]
negative_model_response = ["Impression"]

[metrics.experiment]
group_by = {_toml([QUOTED])}
experiment_name = {_toml(JINJA_TAG)}
experiment_group = {_toml(ACCENTED)}
positive_model_response = ["Clicked"]
negative_model_response = ["Impression"]

[metrics.descriptive]
group_by = {_toml([QUOTED, DEFAULTED])}
columns = {_toml([APOSTROPHE, "Propensity"])}
scores = ["Count", "Sum", "Mean"]

[metrics.model_ml_scores]
group_by = {_toml([STATEMENTS, ACCENTED])}
positive_model_response = ["Clicked"]
negative_model_response = ["Impression"]
"""


@dataclass(frozen=True)
class Built:
    warehouse: Path
    injection: str
    rows: list[dict]

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = connect(self.warehouse, read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def columns(self, relation: str) -> list[str]:
        schema, table = relation.split(".")
        return [r[0] for r in self.query("select column_name from information_schema.columns where table_schema = ? "
                                         "and table_name = ? order by ordinal_position", [schema, table])]


def _build(root: Path, names: list[str], config: str, injection: str | None = None) -> Built:
    """Build a warehouse from one export of ROWS interactions carrying the columns `names`."""
    rows = [ih_row(str(i), "Clicked" if i % 7 in (0, 3) else "Impression", subject=f"C{i % 20}",
                   ModelControlGroup=["Test", "Control"][i % 3 == 0],
                   **{n: (f"i{i % 2}" if n == injection else _value(n, i)) for n in names})
            for i in range(ROWS)]
    write_export_zip(root / "ih" / export_name("20241010"), rows)
    (root / "config.toml").write_text(config)
    warehouse = root / "warehouse.duckdb"
    build(root / "config.toml", warehouse, [str(root / "ih")], [], log=lambda m: None)
    return Built(warehouse, injection or "", rows)


def _injection(root: Path) -> str:
    marker = root / "marker.txt"
    marker.write_text(MARKER)
    return INJECTION.format(marker=marker)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Built:
    """Every hostile name in the export, and in the config wherever it names a column."""
    root = tmp_path_factory.mktemp("hostile")
    injection = _injection(root)
    names = [injection, QUOTED, JINJA_EXPR, JINJA_TAG, STATEMENTS, ACCENTED, ASTRAL, LONG, APOSTROPHE, "X"]
    return _build(root, names, _config(injection), injection)


def _report(warehouse: Path, metric: str, by: list[str], *args: str) -> list[dict]:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["report", metric, "--warehouse", str(warehouse), "--by", ",".join(by), "--format", "csv",
                     *args]) == 0
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def _raw_counts(rows: list[dict], by: list[str]) -> dict[tuple, tuple[int, int]]:
    """(Positives, Count) per group of `by`, straight from the rows written."""
    count = Counter(tuple(str(r[c]) for c in by) for r in rows)
    positives = Counter(tuple(str(r[c]) for c in by) for r in rows if r["pyOutcome"] == "Clicked")
    return {k: (positives[k], n) for k, n in count.items()}


def _assert_no_marker(built: Built) -> None:
    """No table or view of the warehouse has the marker file's content in a name or a value."""
    tables = built.query("select table_schema, table_name from information_schema.tables")
    assert len(tables) > 40
    for schema, table in tables:
        columns = built.columns(f"{schema}.{table}")
        assert not [c for c in columns if MARKER in c or c.startswith("Leak")], f"{schema}.{table}"
        text = " || '|' || ".join(f"coalesce(cast({quote_ident(c)} as varchar), '')" for c in columns)
        (found,) = built.query(f"select count(*) from {quote_ident(schema)}.{quote_ident(table)} "
                               f"where contains({text}, ?)", [MARKER])[0]
        assert found == 0, f"{schema}.{table} holds the marker file's content"


def test_the_injection_reads_nothing_into_the_warehouse(hostile):
    _assert_no_marker(hostile)


def test_an_injection_only_in_the_export_reads_nothing(tmp_path):
    """The name alone, unused by the config, beside the column "X" it closes on: before vm_ident
    this built cleanly and staged the marker file's content as a column "Leak"."""
    injection = _injection(tmp_path)
    _assert_no_marker(_build(tmp_path, [injection, "X"], MINIMAL_CONFIG, injection))


def test_a_name_outside_the_bmp_in_the_config_builds(tmp_path):
    config = MINIMAL_CONFIG.replace('group_by = ["Day", "Channel", "Issue", "Group"]', f"group_by = {_toml([ASTRAL])}")
    built = _build(tmp_path, [ASTRAL], config)
    assert ASTRAL in built.columns("marts.mart_engagement")


def test_names_come_out_exactly_as_written(hostile):
    staged = hostile.columns("staging.stg_pega__interactions")
    for name in (hostile.injection, QUOTED, JINJA_EXPR, JINJA_TAG, STATEMENTS, ACCENTED, ASTRAL, LONG, APOSTROPHE,
                 DEFAULTED):
        assert name in staged, name
    assert "49" not in staged and DERIVED in hostile.columns("intermediate.int_ih__interactions")
    assert hostile.columns("marts.mart_engagement")[:4] == ["metric_name", QUOTED, JINJA_EXPR, LONG]
    assert {hostile.injection, STATEMENTS} <= set(hostile.columns("marts.mart_engagement__state"))
    assert {f"{APOSTROPHE}_Count", f"{APOSTROPHE}_Mean"} <= set(hostile.columns("marts.mart_descriptive"))
    assert {JINJA_TAG, ACCENTED} <= set(hostile.columns("marts.mart_experiment"))
    (default,) = hostile.query(f"select distinct {quote_ident(DEFAULTED)} from staging.stg_pega__interactions")
    assert default == ("dv",)
    for family in ("engagement", "conversion", "experiment", "descriptive", "model_ml_scores"):
        assert hostile.query(f"select count(*) from marts.mart_{family}")[0][0] > 0, family


def test_engagement_mart_counts_per_hostile_group(hostile):
    by = [QUOTED, JINJA_EXPR, LONG]
    mart = hostile.query(f"select {', '.join(map(quote_ident, by))}, \"Positives\", \"Count\" "
                         "from marts.mart_engagement where metric_name = ?", [ENGAGEMENT])
    assert {tuple(r[:3]): (r[3], r[4]) for r in mart} == _raw_counts(hostile.rows, by)


@pytest.mark.parametrize("by", [[QUOTED], [JINJA_EXPR, LONG], [STATEMENTS, QUOTED]],
                         ids=["quote", "jinja+long", "global filter"])
def test_report_by_hostile_columns_counts_the_raw_rows(hostile, by):
    report = _report(hostile.warehouse, ENGAGEMENT, by)
    got = {tuple(r[c] for c in by): (int(r["Positives"]), int(r["Count"])) for r in report}
    assert got == _raw_counts(hostile.rows, by)


def test_descriptive_report_of_a_hostile_column(hostile):
    report = _report(hostile.warehouse, "descriptive", [QUOTED], "--property", APOSTROPHE)
    got = {r[QUOTED]: (int(r[f"{APOSTROPHE}_Count"]), float(r[f"{APOSTROPHE}_Sum"])) for r in report}
    expected: dict[str, tuple[int, float]] = {}
    for r in hostile.rows:
        n, total = expected.get(r[QUOTED], (0, 0.0))
        expected[r[QUOTED]] = (n + 1, total + r[APOSTROPHE])
    assert got == expected


def test_report_by_the_injection_column_through_the_python_api(hostile):
    """A name with a comma can't go through `--by`; the report SQL still takes it as data."""
    report = Warehouse(hostile.warehouse).report(ENGAGEMENT, by=[hostile.injection])
    got = {r[0]: (r[1], r[2]) for r in report.select(hostile.injection, "Positives", "Count").iter_rows()}
    rows = [{**r, "i": f"i{int(r['pxInteractionID']) % 2}"} for r in hostile.rows]
    assert got == {k[0]: v for k, v in _raw_counts(rows, ["i"]).items()}


CLV_RENAMES = {"CustomerID": 'Cust"omer', "pxHoldingID": "Hold;ing--", "OneTimeCost": "{{ spend }}",
               "RecurringCost": "Rec'Cost", "RecurringPeriod": 'Rec"Period', "ControlGroup": "Seg'ment{% raw %}",
               "pyPurchasedDate": 'Bought"Raw'}
PURCHASE_DATE = 'Bought"At'
CLV = "clv_it's"


def _clv_config() -> str:
    names = {k: _toml(v) for k, v in CLV_RENAMES.items()}
    derived = (f"[pl.col('{CLV_RENAMES['pyPurchasedDate']}').str.strptime(pl.Datetime, '%Y%m%dT%H%M%S%.3f %Z')"
               f".dt.date().alias('{PURCHASE_DATE}')]")
    columns = f"""customer_id_col = {names["CustomerID"]}
order_id_col = {names["pxHoldingID"]}
monetary_value_col = {names["OneTimeCost"]}
purchase_date_col = {_toml(PURCHASE_DATE)}"""
    return f"""
[ih]
file_type = "pega_ds_export"

[holdings]
file_type = "csv"
file_pattern = "**/*.csv"
file_group_pattern = "(.*)"

[holdings.extensions]
filter = ""
columns = {_toml(derived)}

[metrics]
global_filters = []

[metrics.{_toml(CLV)}]
group_by = [{names["ControlGroup"]}]
{columns}
grid_history_months = [6, 12]
holdout_folds = 2

[metrics.clv_contract]
group_by = []
{columns}
recurring_cost = {names["RecurringCost"]}
recurring_period = {names["RecurringPeriod"]}
model = "contractual"
grid_history_months = [12]
holdout_folds = 2
"""


@pytest.fixture(scope="module")
def hostile_clv(tmp_path_factory):
    """Holdings whose CLV columns (customer, order, spend, recurring cost and period, purchase
    date, grouping) all have hostile names, built into both CLV models."""
    from datetime import date

    from valuemarts.demo import generate_holdings

    root = tmp_path_factory.mktemp("hostile_clv")
    holdings = generate_holdings(seed=3, customers=200, start=date(2021, 1, 1), end=date(2024, 1, 1))
    holdings = holdings.rename(CLV_RENAMES)
    (root / "holdings").mkdir()
    holdings.write_csv(root / "holdings" / "holdings.csv")
    (root / "config.toml").write_text(_clv_config())
    warehouse = root / "warehouse.duckdb"
    build(root / "config.toml", warehouse, None, [str(root / "holdings")], log=lambda m: None)
    return Built(warehouse, "", holdings.to_dicts())


def test_clv_marts_and_report_with_hostile_column_names(hostile_clv):
    segment, customer, spend = CLV_RENAMES["ControlGroup"], CLV_RENAMES["CustomerID"], CLV_RENAMES["OneTimeCost"]
    assert set(CLV_RENAMES.values()) <= set(hostile_clv.columns("staging.stg_pega__holdings"))
    quarters = hostile_clv.query(f"select {quote_ident(segment)}, count(distinct customer_id), sum(spend) "
                                 "from marts.mart_clv__customer_quarters where metric_name = ? group by 1", [CLV])
    customers: dict[str, set] = {}
    for r in hostile_clv.rows:
        customers.setdefault(r[segment], set()).add(r[customer])
    assert {r[0]: r[1] for r in quarters} == {k: len(v) for k, v in customers.items()}
    for value, _, total in quarters:
        assert total == pytest.approx(sum(r[spend] for r in hostile_clv.rows if r[segment] == value), rel=1e-9)
    (recurring,) = hostile_clv.query("select sum(recurring_value) from marts.mart_clv__customer_quarters "
                                     "where metric_name = 'clv_contract'")[0]
    assert recurring == pytest.approx(sum(r[CLV_RENAMES["RecurringCost"]] * r[CLV_RENAMES["RecurringPeriod"]]
                                          for r in hostile_clv.rows), rel=1e-9)
    report = _report(hostile_clv.warehouse, CLV, [segment])
    assert list(report[0])[:2] == [segment, customer]
    assert Counter(r[segment] for r in report) == {k: len(v) for k, v in customers.items()}


@pytest.mark.parametrize("name", [INJECTION, QUOTED, JINJA_EXPR, JINJA_TAG, STATEMENTS, ACCENTED, ASTRAL, LONG,
                                  APOSTROPHE, "back`tick"])
def test_vm_ident_and_quote_ident_quote_alike_and_round_trip(name):
    macros = jinja2.Environment().from_string((PROJECT_DIR / "macros" / "config.sql").read_text()).module
    assert str(macros.default__vm_ident(name)) == quote_ident(name)
    assert str(macros.spark__vm_ident(name)) == "`" + name.replace("`", "``") + "`"
    con = duckdb.connect()
    try:
        assert con.execute(f"select 1 as {quote_ident(name)}").description[0][0] == name
    finally:
        con.close()


def test_no_macro_or_model_quotes_with_adapter_quote():
    """dbt-duckdb's adapter.quote does not double a `"` inside: names go through vm_ident."""
    files = [p for folder in ("macros", "models") for p in (PROJECT_DIR / folder).rglob("*.sql")]
    offenders = [str(p.relative_to(PROJECT_DIR)) for p in files if "adapter.quote(" in p.read_text()]
    assert offenders == []
