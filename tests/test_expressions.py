"""Config expression translation, with real Polars as the oracle.

Every supported construct is evaluated by Polars (the tests `eval` their own constant strings;
production code never does) and by DuckDB on the translated SQL over the same frame; rows and
values must agree, null for null. The session time zone is set away from UTC so that any
dependence on it shows.
"""

from __future__ import annotations

import ast
import builtins
import datetime as dt
import math
import os
import random
import tomllib
from pathlib import Path

import duckdb
import polars as pl
import pytest

from valuemarts.config.expressions import DerivedColumn, translate_columns, translate_filter
from valuemarts.errors import ConfigError

PEGA = '"%Y%m%dT%H%M%S%.3f %Z"'
TEMPLATE = Path(__file__).parent.parent / "valuemarts" / "demo" / "config_template.toml"  # the reference template, verbatim
# The expression strings of config_template.toml, verbatim.
TEMPLATE_IH_FILTER = 'pl.col("Channel").is_not_null()'
TEMPLATE_IH_COLUMNS = (
    '[pl.when(pl.col("ConversionEventID") != "").then(pl.col("ConversionEventID"))'
    '.otherwise(pl.col("Name")).alias("ConversionEventID")]'
)
TEMPLATE_HOLDINGS_COLUMNS = [
    "[pl.col('PurchasedDate').str.strptime(pl.Datetime",
    '"%Y%m%dT%H%M%S%.3f %Z").dt.date().alias(\'PurchasedDateTime\')]',
]
TEMPLATE_CLV_FILTER = "pl.col('PurchasedDateTime') > pl.datetime(2016, 12, 31)"


def _frame(rows: int = 200, seed: int = 7) -> pl.DataFrame:
    rng = random.Random(seed)

    def pick(options: list[object]) -> list[object]:
        return [rng.choice(options) for _ in range(rows)]

    def maybe(make, null_share: float = 0.1) -> list[object]:
        return [None if rng.random() < null_share else make() for _ in range(rows)]

    def pega_time(start: int, end: int) -> str:
        moment = dt.datetime(start, 1, 1) + dt.timedelta(seconds=rng.randrange((end - start) * 365 * 86400))
        return moment.strftime("%Y%m%dT%H%M%S.") + f"{rng.randrange(1000):03d} GMT"

    purchased = maybe(lambda: pega_time(2015, 2019))
    # Boundaries of the template's CLV filter, which compares a date with a datetime.
    purchased[:3] = ["20161231T000000.000 GMT", "20161231T235959.999 GMT", "20170101T000000.000 GMT"]
    frame = pl.DataFrame({
        "rid": list(range(rows)),
        "Channel": pick(["Web", "Mobile", "Email", "web", "", None]),
        "Name": pick(["OfferA1", "offer_b22", "Card-Gold", "Loan 7", "NBAHealth_x", "", None]),
        "Outcome": pick(["Clicked", "Impression", "Pending", "Conversion", "NoConversion", None]),
        "ConversionEventID": pick(["", "EVT-1", "evt-2", None]),
        "Propensity": maybe(lambda: round(rng.random(), 6)),
        "Priority": maybe(lambda: rng.choice([0.0, -1.5, rng.uniform(-5, 5)])),
        "Revenue": maybe(lambda: rng.choice([0.0, 12.5, -3.25, rng.uniform(0, 100)])),
        "Rank": maybe(lambda: rng.randint(-3, 10)),
        "Flag": maybe(lambda: rng.random() < 0.5),
        "OutcomeTime": maybe(lambda: pega_time(2023, 2025)),
        "PurchasedDate": purchased,
        "IntText": pick(["12", "-3", "0", None]),
        "FloatText": pick(["1.5", "-2.25", "0", "1e3", None]),
        "DayText": maybe(lambda: (dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(400))).isoformat()),
        "StampText": maybe(lambda: f"2024-03-{rng.randint(1, 28):02d} 10:05:07.{rng.randrange(10**6):06d}"),
        "MaybeDay": pick(["2024-02-29", "2023-02-29", "not a date", "", None]),
        "MaybeInt": pick(["7", "-2", "x", "", None]),
    }, schema_overrides={"Rank": pl.Int64, "Flag": pl.Boolean})
    return frame.with_columns(
        pl.col("PurchasedDate").str.strptime(pl.Datetime, PEGA.strip('"')).dt.date().alias("PurchasedDateTime")
    )


FRAME = _frame()
pytestmark = pytest.mark.filterwarnings(
    "ignore:Comparisons with None:UserWarning",  # the oracle for `pl.col(x) == None`
    "ignore:Casting from String to Date:DeprecationWarning",  # still valid Polars 1.x
)


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'America/New_York'")
    connection.register("frame", FRAME.to_arrow())
    yield connection
    connection.close()


def _polars(text: str) -> pl.Expr:
    """The oracle: real Polars on the test's own constant strings."""
    return eval(text, {"pl": pl})  # noqa: S307 - test-only, constant input


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12)
    return a == b


def _assert_values(got: list[object], expected: list[object]) -> None:
    diffs = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected, strict=True)) if not _same(g, e)]
    assert not diffs, f"{len(diffs)} differing rows, first: {diffs[:3]}"


def _sql_values(con, sql: str) -> list[object]:
    return [row[0] for row in con.execute(f"SELECT {sql} FROM frame ORDER BY rid").fetchall()]


def _filtered_ids(con, sql: str) -> list[int]:
    return [row[0] for row in con.execute(f"SELECT rid FROM frame WHERE {sql} ORDER BY rid").fetchall()]


BOOL_CASES = [
    # comparisons, also against bare literals and on the left
    'pl.col("Channel") == "Web"',
    "pl.col('Channel') != 'Web'",
    'pl.col("Rank") < 3',
    'pl.col("Rank") <= 0',
    'pl.col("Priority") > -1.5',
    'pl.col("Priority") >= pl.col("Revenue")',
    '3 < pl.col("Rank")',
    'pl.col("Rank") == pl.lit(0)',
    'pl.col("Rank") == None',
    'pl.col("Flag") == True',
    # logic with Kleene nulls
    '(pl.col("Rank") > 0) & (pl.col("Channel") == "Web")',
    '(pl.col("Rank") > 0) | pl.col("Flag")',
    '~(pl.col("Rank") > 0)',
    '~pl.col("Flag")',
    'pl.col("Flag").not_()',
    # membership and nulls
    'pl.col("Channel").is_in(["Web", "Email"])',
    'pl.col("Channel").is_in(["Web", None])',
    'pl.col("Channel").is_in([])',
    'pl.col("Rank").is_in((0, 1, -3))',
    'pl.col("Channel").is_null()',
    'pl.col("Channel").is_not_null()',
    'pl.col("Rank").is_between(0, 5)',
    'pl.col("Rank").is_between(0, 5, closed="left")',
    'pl.col("Rank").is_between(0, 5, closed="right")',
    'pl.col("Rank").is_between(0, 5, closed="none")',
    'pl.col("Priority").is_between("Revenue", "Propensity")',
    'pl.all_horizontal(pl.col("Flag"), pl.col("Rank") > 0)',
    'pl.any_horizontal([pl.col("Flag"), pl.col("Rank") > 0])',
    'pl.all_horizontal("Flag", pl.col("Channel") == "Web")',
    # strings: case-sensitive, regex by default
    'pl.col("Name").str.starts_with("Offer")',
    'pl.col("Name").str.ends_with("1")',
    'pl.col("Name").str.contains("[0-9]+$")',
    r'pl.col("Name").str.contains(r"\d")',
    'pl.col("Name").str.contains("(?i)offer")',
    'pl.col("Name").str.contains("Gold|Loan")',
    'pl.col("Name").str.contains("-", literal=True)',
    'pl.col("Channel").str.to_lowercase() == "web"',
    # dates
    TEMPLATE_CLV_FILTER,
    'pl.col("PurchasedDateTime") >= pl.date(2017, 1, 1)',
    f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA}) < pl.datetime(2024, 6, 1, 12, 30, 15)',
    # the template's filter and combinations
    TEMPLATE_IH_FILTER,
    'pl.col("Outcome").is_in(["Clicked", "Conversion"]) & ~pl.col("Channel").str.to_lowercase()'
    '.str.starts_with("e") | pl.col("Rank").is_null()',
    'pl.col("Outcome").is_in(["Pending", "Impression", "Clicked", "Conversion", "NoConversion"])'
    ' & pl.col("Channel").is_in(["Web", "Mobile", "Email"])',
    '~pl.col("Name").str.starts_with("NBAHealth")',
    '(pl.col("Revenue").fill_null(0) / pl.col("Priority") > 1) | pl.col("Propensity").is_null()',
]

VALUE_CASES = BOOL_CASES + [
    'pl.col("Channel")',
    'pl.lit("x")',
    "pl.lit(3)",
    "pl.lit(2.5)",
    "pl.lit(True)",
    "pl.lit(None)",
    # arithmetic: `/` is true division, x/0 is inf and 0/0 NaN in both
    'pl.col("Rank") + 1',
    'pl.col("Rank") - pl.col("Rank") * 2',
    'pl.col("Rank") / 2',
    'pl.col("Rank") / pl.col("Rank")',
    'pl.col("Revenue") / pl.col("Priority")',
    '-pl.col("Priority")',
    'pl.col("Priority") * 0.1',
    '1 - pl.col("Propensity")',
    'pl.col("Name") + "_x"',
    '"pre_" + pl.col("Name")',
    'pl.col("Priority").abs()',
    'pl.col("Priority").floor()',
    'pl.col("Priority").ceil()',
    # strings
    'pl.col("Name").str.to_lowercase()',
    'pl.col("Name").str.to_uppercase()',
    # date parsing (Pega format, naive wall time whatever the session zone) and parts
    f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA})',
    f'pl.col("OutcomeTime").str.to_datetime({PEGA})',
    f'pl.col("OutcomeTime").str.strptime(pl.Date, {PEGA})',
    f'pl.col("OutcomeTime").str.to_date({PEGA})',
    'pl.col("DayText").str.strptime(pl.Date, "%Y-%m-%d")',
    'pl.col("DayText").str.to_datetime("%F")',
    'pl.col("StampText").str.to_datetime("%Y-%m-%d %H:%M:%S%.f")',
    'pl.col("StampText").str.strptime(pl.Datetime, "%F %T%.6f")',
    'pl.col("MaybeDay").str.strptime(pl.Date, "%Y-%m-%d", strict=False)',
    f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA}).dt.date()',
    f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA}).dt.year()',
    f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA}).dt.month()',
    f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA}).dt.day()',
    f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA}).dt.hour()',
    f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA}).dt.minute()',
    f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA}).dt.second()',
    f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA}).dt.quarter()',
    f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA}).dt.weekday()',
    'pl.col("PurchasedDateTime").dt.year()',
    # casts
    'pl.col("Rank").cast(pl.Utf8)',
    'pl.col("Priority").cast(pl.String)',
    'pl.col("Flag").cast(pl.Utf8)',
    'pl.col("IntText").cast(pl.Int64)',
    'pl.col("IntText").cast(pl.Int32)',
    'pl.col("FloatText").cast(pl.Float64)',
    'pl.col("Rank").cast(pl.Float64)',
    'pl.col("Rank").cast(pl.Boolean)',
    'pl.col("Flag").cast(pl.Int64)',
    'pl.col("DayText").cast(pl.Date)',
    '(pl.col("Priority") * 1.0).cast(pl.Int64)',
    'pl.col("MaybeInt").cast(pl.Int64, strict=False)',
    # fill_null: strings are literals here
    'pl.col("Channel").fill_null("N/A")',
    'pl.col("Rank").fill_null(0)',
    'pl.col("Rank").fill_null(1.5)',
    'pl.col("Priority").fill_null(pl.col("Revenue"))',
    # when/then: strings are column names here; no otherwise gives null
    'pl.when(pl.col("Rank") > 0).then(pl.lit("pos")).when(pl.col("Rank") < 0).then(pl.lit("neg"))'
    '.otherwise(pl.lit("zero"))',
    'pl.when(pl.col("Flag")).then(pl.col("Rank"))',
    'pl.when(pl.col("Flag")).then("Name").otherwise("Channel")',
    'pl.when(pl.col("Rank") > 0, pl.col("Flag")).then(1).otherwise(0)',
    'pl.when(pl.col("Rank") > 0).then(pl.col("Priority")).otherwise(pl.col("Rank"))',
    # combinations
    '(pl.col("Revenue").fill_null(0) * 2 - pl.col("Priority")) / (pl.col("Rank").cast(pl.Float64) + 0.5)',
    'pl.col("Name").str.to_lowercase().str.contains("offer") & pl.col("Rank").is_between(1, 9)',
]


@pytest.mark.parametrize("text", VALUE_CASES)
def test_values_match_polars(con, text: str) -> None:
    expected = FRAME.with_columns(_polars(text).alias("v"))["v"].to_list()
    [column] = translate_columns(f"[({text}).alias('v')]", "test.columns")
    assert column.name == "v"
    _assert_values(_sql_values(con, column.sql), expected)


@pytest.mark.parametrize("text", BOOL_CASES)
def test_filters_match_polars(con, text: str) -> None:
    expected = FRAME.filter(_polars(text))["rid"].to_list()
    translated = translate_filter(text, "test.filter")
    assert translated is not None
    assert _filtered_ids(con, translated.sql) == expected


@pytest.mark.parametrize("text", [
    'pl.col("Channel").str.to_lowercase()',
    'pl.col("Rank") * 2',
    '3 < pl.col("Rank")',
    'pl.col("Channel").is_in(["Web"]).not_()',
    'pl.when(pl.col("Flag")).then(pl.col("Name")).otherwise(pl.col("Channel"))',
    f'pl.col("PurchasedDate").str.strptime(pl.Datetime, {PEGA}).dt.date()',
])
def test_unaliased_columns_keep_the_polars_name(text: str) -> None:
    [column] = translate_columns(f"[{text}]", "test.columns")
    assert column.name == FRAME.select(_polars(text)).columns[0]


def _assert_columns_match(con, derived: list[DerivedColumn], polars_text: str) -> None:
    expected = FRAME.with_columns(_polars(polars_text))
    for column in derived:
        _assert_values(_sql_values(con, column.sql), expected[column.name].to_list())


def test_template_ih_columns(con) -> None:
    derived = translate_columns(TEMPLATE_IH_COLUMNS, "ih.extensions.columns")
    assert [(c.name, c.columns) for c in derived] == [("ConversionEventID", {"ConversionEventID", "Name"})]
    _assert_columns_match(con, derived, TEMPLATE_IH_COLUMNS)


def test_template_holdings_fragments_are_joined(con) -> None:
    derived = translate_columns(TEMPLATE_HOLDINGS_COLUMNS, "holdings.extensions.columns")
    assert [(c.name, c.columns) for c in derived] == [("PurchasedDateTime", {"PurchasedDate"})]
    _assert_columns_match(con, derived, ", ".join(TEMPLATE_HOLDINGS_COLUMNS))


def test_array_of_complete_expressions(con) -> None:
    items = ['pl.col("Rank").alias("r")', 'pl.col("Name").str.to_lowercase()']
    derived = translate_columns(items, "test.columns")
    assert [c.name for c in derived] == ["r", "Name"]
    _assert_columns_match(con, derived, f"[{', '.join(items)}]")


def test_template_strings_are_verbatim() -> None:
    config = tomllib.loads(TEMPLATE.read_text())
    assert config["ih"]["extensions"]["filter"] == TEMPLATE_IH_FILTER
    assert config["ih"]["extensions"]["columns"] == TEMPLATE_IH_COLUMNS
    assert config["holdings"]["extensions"]["columns"] == TEMPLATE_HOLDINGS_COLUMNS
    assert config["metrics"]["clv"]["filter"] == TEMPLATE_CLV_FILTER
    assert translate_filter(config["holdings"]["extensions"]["filter"], "holdings.extensions.filter") is None


def test_empty_inputs() -> None:
    assert translate_filter("", "k") is None
    assert translate_filter("   \n", "k") is None
    assert translate_columns("", "k") == []
    assert translate_columns([], "k") == []
    assert translate_columns("[]", "k") == []


def test_output_quotes_columns_and_reports_them() -> None:
    translated = translate_filter("pl.col('Channel').is_in(['Web']) & (pl.col('Rank') > 0)", "k")
    assert translated is not None
    assert translated.columns == {"Channel", "Rank"}
    assert '"Channel"' in translated.sql and '"Rank"' in translated.sql
    sql_form = translate_filter("Channel = 'Web' -- */ ; DROP TABLE frame; /*", "k")
    assert sql_form is not None and sql_form.sql == "\"Channel\" = 'Web'"  # comments dropped


@pytest.mark.parametrize(("sql", "polars_text"), [
    ("Channel IS NOT NULL", 'pl.col("Channel").is_not_null()'),
    ("lower(Channel) = 'web' AND Rank BETWEEN 0 AND 5",
     '(pl.col("Channel").str.to_lowercase() == "web") & pl.col("Rank").is_between(0, 5)'),
    ("regexp_matches(Name, '[0-9]$') OR Outcome IN ('Clicked', 'Conversion')",
     'pl.col("Name").str.contains("[0-9]$") | pl.col("Outcome").is_in(["Clicked", "Conversion"])'),
    ("coalesce(Revenue, 0) > 10 AND NOT starts_with(Name, 'Offer')",
     '(pl.col("Revenue").fill_null(0) > 10) & ~pl.col("Name").str.starts_with("Offer")'),
    ("year(strptime(OutcomeTime, '%Y%m%dT%H%M%S.%g %Z') AT TIME ZONE 'UTC') = 2024",
     f'pl.col("OutcomeTime").str.strptime(pl.Datetime, {PEGA}).dt.year() == 2024'),
])
def test_sql_filters(con, sql: str, polars_text: str) -> None:
    translated = translate_filter(sql, "test.filter")
    assert translated is not None
    assert _filtered_ids(con, translated.sql) == FRAME.filter(_polars(polars_text))["rid"].to_list()


@pytest.mark.parametrize("text", [
    "CASE WHEN Rank > 0 THEN 'pos' ELSE 'other' END AS bucket, lower(Name) AS name_lc, Channel",
    ["CASE WHEN Rank > 0 THEN 'pos' ELSE 'other' END AS bucket", "lower(Name) AS name_lc", "Channel"],
])
def test_sql_columns(con, text: str | list[str]) -> None:
    derived = translate_columns(text, "test.columns")
    assert [(c.name, c.columns) for c in derived] == [
        ("bucket", {"Rank"}), ("name_lc", {"Name"}), ("Channel", {"Channel"})]
    _assert_columns_match(con, derived, (
        '[pl.when(pl.col("Rank") > 0).then(pl.lit("pos")).otherwise(pl.lit("other")).alias("bucket"),'
        ' pl.col("Name").str.to_lowercase().alias("name_lc")]'))


# --- rejections -------------------------------------------------------------------------------


def test_malicious_payloads_are_rejected_without_running(tmp_path, monkeypatch) -> None:
    sentinel = tmp_path / "pwned"
    calls: list[str] = []
    real_compile = builtins.compile

    def ast_only_compile(source, filename, mode, flags=0, *args, **kwargs):
        # ast.parse goes through compile with PyCF_ONLY_AST; anything else would build code.
        if not flags & ast.PyCF_ONLY_AST:
            calls.append(f"compile({source!r})")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    # Warm up first: sqlglot imports its dialects lazily, and imports run module code via exec.
    translate_filter("Channel = 'Web'", "warm.up")
    translate_filter(TEMPLATE_IH_FILTER, "warm.up")
    monkeypatch.setattr(os, "system", lambda cmd: calls.append(f"system({cmd})"))
    monkeypatch.setattr(builtins, "eval", lambda *a, **k: calls.append("eval"))
    monkeypatch.setattr(builtins, "exec", lambda *a, **k: calls.append("exec"))
    monkeypatch.setattr(builtins, "compile", ast_only_compile)
    touch = f"__import__('os').system('touch {sentinel}')"
    payloads = [
        touch,
        f"open('{sentinel}', 'w').write('x')",
        f"pl.col('a').map_elements(lambda x: {touch})",
        f"pl.col({touch})",
        f"pl.col('a').alias(open('{sentinel}', 'w').name)",
        f"pl.col('a').__class__.__init__.__globals__['os'].system('touch {sentinel}')",
        "pl.__builtins__['eval']('1')",
        f"(lambda: {touch})()",
        "[c for c in ().__class__.__base__.__subclasses__()]",
        f'pl.lit(f"{{{touch}}}")',
        f"[pl.col('a').alias('b'), {touch}]",
    ]
    for payload in payloads:
        for translate in (translate_filter, translate_columns):
            with pytest.raises(ConfigError) as info:
                translate(payload, "ih.extensions.filter")
            assert str(info.value).startswith("ih.extensions.filter: unsupported"), payload
    assert not sentinel.exists()
    assert calls == []


@pytest.mark.parametrize(("text", "message"), [
    ("np.random.normal(3.5)", 'unsupported call np.random.normal in "np.random.normal(3.5)"'),
    ("__import__('os').system('ls')", "unsupported call __import__('os').system"),
    ("open('/etc/passwd')", "unsupported call open"),
    ('pl.col("Name").map_elements(str.upper)', "unsupported method .map_elements()"),
    ('pl.col("Name").apply(len)', "unsupported method .apply()"),
    ('pl.col("Name").str.json_decode()', "unsupported method .str.json_decode()"),
    ('pl.col("Rank").between(1, 2)', "unsupported method .between() (Polars calls it .is_between)"),
    ("pl.read_csv('x')", "unsupported function pl.read_csv()"),
    ('pl.col("Name").__class__', "unsupported attribute __class__"),
    ("np.pi > pl.col('Rank')", "unsupported name np"),
    ('pl.col("Name").str.contains("x", flags=1)', "unsupported keyword argument flags= in .str.contains()"),
    ('pl.col("Name").is_in(["a"], **{})', "unsupported **kwargs"),
    ('pl.col(*["Name"])', "unsupported starred argument"),
    ('pl.col("Rank") > 1 and pl.col("Rank") < 3', "unsupported syntax and/or (use & and |"),
    ("pl.col('Rank').map_batches(lambda s: s)", "unsupported method .map_batches()"),
    ("[pl.col(c) for c in 'ab']", "unsupported syntax comprehension"),
    ('pl.col(f"{1}")', "unsupported syntax f-string"),
    ('pl.col("Rank") // 2', "unsupported operator //"),
    ("1 < pl.col('Rank') < 3", "unsupported chained comparison"),
    ("pl.col('Rank') is None", "unsupported comparison"),
    ('pl.col("Name"', "invalid Polars expression at line 1, column 7: '(' was never closed"),
    ('pl.col("^Na.*$") == 1', "selects several columns"),
    ('pl.col("Name").str.strptime(pl.Datetime, "%Y %z")', "unsupported date format specifier '%z'"),
    ('pl.col("Name").str.strptime(pl.Datetime)', "needs an explicit format"),
    ('pl.col("Name").cast(pl.Object)', "unsupported attribute pl.Object"),
    ('pl.lit("x")', "a filter must be a boolean expression, not str"),
    ("getenv('HOME') = 'x'", "unsupported function getenv"),
    ("Channel IN (SELECT Channel FROM frame)", "subqueries are not allowed"),
    ("read_csv('/etc/passwd') IS NOT NULL", "unsupported function read_csv"),
    ("(SELECT count(*) FROM read_csv('/etc/passwd')) > 0", "subqueries are not allowed"),
    ("Channel = 'Web'; DROP TABLE frame", "';' is not allowed"),
    ("Channel = 'Web' garbage", "expected one expression"),
    ("frame.Channel = 'Web'", "unsupported column reference frame.Channel"),
    ("CAST(Rank AS STRUCT(a INT)) IS NULL", "unsupported type"),
])
def test_rejections_name_key_and_part(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        translate_filter(text, "ih.extensions.filter")
    assert info.value.key == "ih.extensions.filter"
    assert str(info.value).startswith("ih.extensions.filter: ")
    assert message in str(info.value)


@pytest.mark.parametrize(("text", "message"), [
    ("[pl.lit(1)]", 'needs a name: end it with .alias("name")'),
    ('[pl.col("Rank").alias("r"), pl.col("Name").alias("r")]', "column 'r' is derived more than once"),
    ("lower(Name)", "needs a name: add AS name"),
    ("lower(Name) AS n FROM frame", "expected comma-separated items"),
    ("pl.col('a').alias('b'); 1", "invalid Polars expression"),
    (["[pl.col('a')", "pl.col('b')"], "invalid Polars expression"),
    ([1], "expected an array of strings"),
])
def test_column_rejections(text: str | list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        translate_columns(text, "holdings.extensions.columns")
    assert str(info.value).startswith("holdings.extensions.columns: ")
    assert message in str(info.value)
