"""The compiler accepts one-sided configs, finds type errors before dbt runs, and warns on typos.

Every error and warning is asserted with its exact TOML key path: that path is what users act on.
"""

from __future__ import annotations

from pathlib import Path

import copy
import tomllib

import duckdb
import pytest

from valuemarts.cli import main
from valuemarts.config import schema
from valuemarts.config.compiler import compile_config
from valuemarts.demo.config import HOLDINGS_FILES, IH_FILES, demo_config_toml
from valuemarts.errors import ConfigErrors
from valuemarts.ingest.landing import ensure_landing

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the repository and its dbt project

TEMPLATE = PROJECT_DIR / "valuemarts" / "demo" / "config_template.toml"
_TEMPLATE_RAW = tomllib.loads(TEMPLATE.read_text())

IH_ONLY_TOML = """
[ih]
file_type = "parquet"
file_pattern = "**/*.parquet"

[ih.extensions]
filter = "pl.col('CustomerScore') > 0.5"

[metrics]
global_filters = ["Channel"]

[metrics.engagement]
group_by = ["Channel"]
scores = ["CTR"]
positive_model_response = ["Clicked"]
negative_model_response = ["Impression"]
"""


def _template() -> dict:
    return copy.deepcopy(_TEMPLATE_RAW)


def _ih_only() -> dict:
    """The template without [holdings], its CLV metric and CLV reports."""
    raw = _template()
    del raw["holdings"], raw["metrics"]["clv"]
    raw["reports"] = {k: v for k, v in raw["reports"].items() if v["metric"] != "clv"}
    return raw


def _holdings_only() -> dict:
    """The template without [ih], its IH metrics and their reports; the global filters stay."""
    raw = _template()
    del raw["ih"]
    raw["metrics"] = {k: v for k, v in raw["metrics"].items() if k in ("clv", "global_filters")}
    raw["reports"] = {k: v for k, v in raw["reports"].items() if v["metric"] == "clv"}
    return raw


def _errors(raw: dict, **kwargs) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        compile_config(raw, **kwargs)
    return [str(e) for e in caught.value.errors]


def _error_for(raw: dict, key: str, **kwargs) -> str:
    """The message of the one error at `key`."""
    (message,) = [e[len(key) + 2:] for e in _errors(raw, **kwargs) if e.startswith(f"{key}: ")]
    return message


# One-sided configs ------------------------------------------------------------------------------

def test_ih_only_config_compiles_with_an_unconfigured_holdings_side():
    full = compile_config(_template()).dbt_vars
    vars_ = compile_config(_ih_only()).dbt_vars
    assert vars_["ih"]["configured"] is True and full["holdings"]["configured"] is True
    holdings = vars_["holdings"]
    assert holdings["configured"] is False
    assert holdings.keys() == full["holdings"].keys()
    assert holdings["column_types"] == schema.HOLDINGS_COLUMN_TYPES
    assert (holdings["file_type"], holdings["filter_sql"], holdings["derived_columns"], holdings["default_values"]) \
        == (None, None, [], {})
    assert "clv" not in vars_["metrics"]


def test_holdings_only_config_compiles_with_an_unconfigured_ih_side():
    full = compile_config(_template()).dbt_vars
    vars_ = compile_config(_holdings_only()).dbt_vars
    ih = vars_["ih"]
    assert ih["configured"] is False and vars_["holdings"]["configured"] is True
    assert ih.keys() == full["ih"].keys()
    assert ih["column_types"] == schema.IH_COLUMN_TYPES and ih["drop_columns"] == full["ih"]["drop_columns"]
    assert list(vars_["metrics"]) == ["clv"]
    # The template's global filters are standard IH columns: still valid without [ih].
    assert vars_["global_filters"] == ["Channel", "Year", "PlacementType", "Issue", "PropensitySource"]


def test_a_missing_section_is_named_with_the_metrics_that_need_it_and_nothing_else():
    raw = _template()
    del raw["holdings"]
    assert _errors(raw) == ["holdings: required by metric clv"]
    raw = _template()
    del raw["ih"]
    assert _errors(raw) == ["ih: required by metrics model_ml_scores, engagement, conversion, descriptive, experiment"]


def test_global_filters_without_ih_are_checked_against_the_standard_ih_columns():
    raw = _holdings_only()
    raw["metrics"]["global_filters"] = ["Channel", "Region"]
    message = _error_for(raw, "metrics.global_filters[1]")
    assert message.startswith("unknown column 'Region': not among the standard Pega columns "
                              "(the config has no [ih] section)")


# Type errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("section", "column", "value", "expected"), [
    ("ih", "FinalPropensity", "high", "expected a number (DOUBLE), got 'high'"),
    ("ih", "Rank", "first", "expected a whole number (BIGINT), got 'first'"),
    ("ih", "OutcomeTime", "yesterday", "expected a timestamp (TIMESTAMPTZ), got 'yesterday'"),
    ("holdings", "OneTimeCost", "free", "expected a number (DOUBLE), got 'free'"),
])
def test_a_default_value_of_the_wrong_type_is_an_error_at_its_key(section, column, value, expected):
    raw = _template()
    raw[section]["extensions"]["default_values"][column] = value
    assert _error_for(raw, f"{section}.extensions.default_values.{column}") == expected


def _set(raw: dict, path: str, value: str) -> None:
    *tables, key = path.split(".")
    for name in tables:
        raw = raw[name]
    raw[key] = value


@pytest.mark.parametrize(("key", "expression", "reason"), [
    ("ih.extensions.filter", "pl.col('Propensity') > 'abc'", "Could not convert string 'abc' to DOUBLE"),
    ("ih.extensions.filter", "Propensity > 'abc'", "Could not convert string 'abc' to DOUBLE"),
    ("ih.extensions.filter", "pl.col('Channel') > 3", "Cannot compare values of type VARCHAR"),
    ("metrics.conversion.filter", "pl.col('Revenue') == 'lots'", "Could not convert string 'lots' to DOUBLE"),
    ("metrics.descriptive.filter", "Day > 'last week'", "invalid date field format"),
    # the holdings filter runs after the derived columns: PurchasedDateTime is a DATE there
    ("holdings.extensions.filter", "pl.col('PurchasedDateTime') > 'soon'", "invalid date field format"),
    ("metrics.clv.filter", "OneTimeCost = 'free'", "Could not convert string 'free' to DOUBLE"),
])
def test_a_filter_of_mismatched_types_is_an_error_at_its_key(key, expression, reason):
    raw = _template()
    _set(raw, key, expression)
    message = _error_for(raw, key)
    assert message.startswith("type error: ") and reason in message and "\n" not in message


def test_a_derived_column_of_mismatched_types_is_an_error_naming_the_column():
    raw = _template()
    raw["ih"]["extensions"]["columns"] = "[pl.col('Propensity').str.contains('x').alias('Odd'), " \
                                         "pl.col('Name').alias('Fine')]"
    message = _error_for(raw, "ih.extensions.columns")
    assert message.startswith("column 'Odd': type error: ") and "Fine" not in message


def test_data_column_types_are_used_for_columns_staging_does_not_type():
    data = ["InteractionID", "SubjectID", "Name", "Outcome", "OutcomeTime", "Channel", "CustomerScore"]
    raw = tomllib.loads(IH_ONLY_TOML)
    compile_config(raw, ih_columns=set(data))  # type unknown: accepted
    compile_config(raw, ih_columns={**dict.fromkeys(data, "VARCHAR"), "CustomerScore": "DOUBLE"})
    message = _error_for(raw, "ih.extensions.filter", ih_columns=dict.fromkeys(data, "VARCHAR"))
    assert message.startswith("type error: Cannot compare values of type VARCHAR")


def test_columns_with_quotes_in_their_names_are_typed_too():
    raw = _template()
    raw["ih"]["extensions"]["default_values"]['Odd"Name'] = 0.5
    raw["ih"]["extensions"]["filter"] = """pl.col('Odd"Name') > 0.1"""
    compile_config(raw)
    raw["ih"]["extensions"]["filter"] = """pl.col('Odd"Name') > 'abc'"""
    assert 'Could not convert string "abc" to DECIMAL' in _error_for(raw, "ih.extensions.filter")


# Warnings ---------------------------------------------------------------------------------------

def test_the_reference_template_and_the_demo_configs_compile_without_warnings():
    assert compile_config(_template()).warnings == []
    for ih_format in IH_FILES:
        for holdings_format in HOLDINGS_FILES:
            assert compile_config(tomllib.loads(demo_config_toml(ih_format, holdings_format))).warnings == []


@pytest.mark.parametrize(("path", "warning"), [
    ("holding", "holding: unknown key (did you mean holdings?)"),
    ("ih.file_patern", "ih.file_patern: unknown key (did you mean file_pattern?)"),
    ("holdings.file_group_patern", "holdings.file_group_patern: unknown key (did you mean file_group_pattern?)"),
    ("ih.extensions.filters", "ih.extensions.filters: unknown key (did you mean filter?)"),
    ("metrics.model_ml_scores.use_tdigest",
     "metrics.model_ml_scores.use_tdigest: unknown key (did you mean use_t_digest?)"),
    ("metrics.clv.horizon_month", "metrics.clv.horizon_month: unknown key (did you mean horizon_months?)"),
    ("reports.daily_ctr.facet_rows", "reports.daily_ctr.facet_rows: unknown key (did you mean facet_row?)"),
    ("reports.daily_ctr.zzz", "reports.daily_ctr.zzz: unknown key, ignored"),
])
def test_an_unknown_key_warns_with_its_path_and_the_closest_known_key(path, warning):
    raw = _template()
    _set(raw, path, "x")
    assert compile_config(raw).warnings == [warning]


def test_a_misspelt_score_warns_with_its_index():
    raw = _template()
    raw["metrics"]["engagement"]["scores"][3] = "Liftt"
    raw["metrics"]["descriptive"]["scores"].append("Average")
    assert compile_config(raw).warnings == [
        "metrics.engagement.scores[3]: unknown score 'Liftt' (did you mean Lift?)",
        "metrics.descriptive.scores[13]: unknown score 'Average' (known: Count, Max, Mean, Median, Min, Skew, Std, "
        "Sum, Var, p25, p75, p90, p95)",
    ]


def test_warnings_are_listed_with_the_errors_they_may_explain():
    raw = _template()
    raw["ih"]["file_typ"] = raw["ih"].pop("file_type")
    errors = _errors(raw)
    assert errors[0].startswith("ih.file_type: required")
    assert errors[-1] == "warning: ih.file_typ: unknown key (did you mean file_type?)"


def test_cli_prints_warnings_on_stderr_and_exits_0(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VALUEMARTS_PROJECT_DIR", str(tmp_path))  # the dbt macro goes here, not in the repo
    config = tmp_path / "config.toml"
    config.write_text(TEMPLATE.read_text().replace('file_pattern = "**/*.zip"', 'file_patern = "**/*.zip"'))
    assert main(["compile", str(config), "-o", str(tmp_path / "out"), "--warehouse", str(tmp_path / "w.duckdb")]) == 0
    assert capsys.readouterr().err.splitlines() == ["warning: ih.file_patern: unknown key (did you mean file_pattern?)"]


def test_cli_type_checks_against_the_loaded_data(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VALUEMARTS_PROJECT_DIR", str(tmp_path))
    config = tmp_path / "config.toml"
    config.write_text(IH_ONLY_TOML)
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_landing(con)
        for raw_name in ("pxInteractionID", "pySubjectID", "pyName", "pyOutcome", "pxOutcomeTime", "pyChannel"):
            con.execute(f'alter table landing.ih_raw add column "{raw_name}" varchar')
        con.execute('alter table landing.ih_raw add column "CustomerScore" varchar')
    argv = ["compile", str(config), "-o", str(tmp_path / "out"), "--warehouse", str(warehouse)]
    assert main(argv) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("ih.extensions.filter: type error: Cannot compare values of type VARCHAR")
