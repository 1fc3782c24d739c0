"""The config compiler: the reference template compiles; every problem is reported with its key."""

from __future__ import annotations

from pathlib import Path

import hashlib
import json
import re
import tomllib

import pytest

from valuemarts.cli import main
from valuemarts.config.compiler import compile_config, compile_file
from valuemarts.config.output import dbt_macro_text
from valuemarts.errors import ConfigErrors

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the repository and its dbt project

TEMPLATE = PROJECT_DIR / "valuemarts" / "demo" / "config_template.toml"
REFERENCE_TEMPLATE_SHA256 = "36000e8ba3dc174b5d00276f9ff21a7a0de61d9e47e409f607d8ae8662e1d263"


def _template() -> dict:
    return tomllib.loads(TEMPLATE.read_text())


def _errors(raw: dict, **kwargs) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        compile_config(raw, **kwargs)
    return [str(e) for e in caught.value.errors]


def test_packaged_template_is_the_reference_template():
    # A verbatim copy of the reference template (origin: tests/data/README.md); its hash pins it.
    assert hashlib.sha256(TEMPLATE.read_bytes()).hexdigest() == REFERENCE_TEMPLATE_SHA256


def test_reference_template_compiles_unchanged():
    compiled = compile_file(TEMPLATE)
    vars_ = compiled.dbt_vars
    assert vars_["ih"]["filter_sql"] == 'NOT "Channel" IS NULL'
    (derived,) = vars_["ih"]["derived_columns"]
    assert derived["name"] == "ConversionEventID" and derived["sql"].upper().startswith("CASE WHEN")
    (purchased,) = vars_["holdings"]["derived_columns"]   # the template's broken two-fragment array
    assert purchased["name"] == "PurchasedDateTime" and "strptime" in purchased["sql"].lower()
    assert {m["name"] for m in vars_["labelled_metrics"]} == {"engagement", "conversion", "model_ml_scores", "experiment"}
    assert len(compiled.report_specs["reports"]) == 34
    assert vars_["metrics"]["model_ml_scores"]["use_t_digest"] is True
    assert vars_["ih"]["default_values"]["ModelControlGroup"] == "cast('Test' as VARCHAR)"


def test_metrics_that_label_alike_share_a_labelling_rule():
    """Same outcome lists as sets and the same filter: one rule, named by the first such metric
    (int_ih__labelled_keys_by_rule stores each rule's labels once); any difference: a rule of its own."""
    raw = _template()
    raw["metrics"]["engagement"]["negative_model_response"] = ["Pending", "Impression"]   # order is no difference
    raw["metrics"]["engagement_web"] = {**raw["metrics"]["engagement"], "filter": "pl.col('Channel') == 'Web'"}
    raw["metrics"]["engagement_pending"] = {**raw["metrics"]["engagement"], "negative_model_response": ["Pending"]}
    rules = {m["name"]: m["label_rule"] for m in compile_config(raw).dbt_vars["labelled_metrics"]}
    assert rules == {"model_ml_scores": "model_ml_scores", "engagement": "model_ml_scores",
                     "experiment": "model_ml_scores", "conversion": "conversion",
                     "engagement_web": "engagement_web", "engagement_pending": "engagement_pending"}


def test_unknown_columns_are_named_with_their_key():
    raw = _template()
    raw["metrics"]["engagement"]["group_by"] = ["Channel", "Chanel"]
    raw["metrics"]["global_filters"] = ["Channel", "Region"]
    errors = _errors(raw)
    assert any(e.startswith("metrics.engagement.group_by[1]: unknown column 'Chanel'") for e in errors)
    assert any(e.startswith("metrics.global_filters[1]: unknown column 'Region'") for e in errors)


def test_columns_found_in_the_data_are_accepted():
    raw = _template()
    raw["metrics"]["engagement"]["group_by"].append("CustomerType")
    assert any("unknown column 'CustomerType'" in e for e in _errors(raw))
    data = {"InteractionID", "SubjectID", "Name", "Issue", "Group", "Outcome", "OutcomeTime", "Channel",
            "CustomerType", "PlacementType", "PropensitySource", "Propensity", "Priority", "DecisionTime",
            "ModelControlGroup"}
    compiled = compile_config(raw, ih_columns=data)
    assert "CustomerType" in compiled.dbt_vars["metrics"]["engagement"]["group_by"]


def test_reports_are_checked_against_their_metric():
    raw = _template()
    raw["reports"]["daily_ctr"]["group_by"] = ["Day", "CustomerID"]
    raw["reports"]["gauge_channel_placement_ctr"]["metric"] = "engagement_mobile"
    raw["reports"]["daily_lift"]["y"] = "Lift_Percent"
    errors = _errors(raw)
    assert any(e.startswith("reports.daily_ctr.group_by[1]: 'CustomerID' is not in metric 'engagement'") for e in errors)
    assert any(e.startswith("reports.gauge_channel_placement_ctr.metric: names metric 'engagement_mobile'") for e in errors)
    assert any(e.startswith("reports.daily_lift.y: 'Lift_Percent' is neither") for e in errors)


def test_bad_types_and_values():
    raw = _template()
    raw["metrics"]["model_ml_scores"]["use_t_digest"] = "perhaps"
    raw["ih"]["file_type"] = "feather"
    raw["metrics"]["engagement"]["positive_model_response"] = []
    raw["metrics"]["uplift"] = {"group_by": []}
    raw["ih"]["ih_group_pattern"] = "(unclosed"
    errors = _errors(raw)
    expected = ["metrics.model_ml_scores.use_t_digest: expected a boolean",
                "ih.file_type: unknown file type 'feather'",
                "metrics.engagement.positive_model_response: required",
                "metrics.uplift: unknown metric family",
                "ih.ih_group_pattern: invalid regular expression"]
    for prefix in expected:
        assert any(e.startswith(prefix) for e in errors), prefix


def test_malicious_expression_is_rejected_before_anything_runs(tmp_path):
    marker = tmp_path / "pwned"
    raw = _template()
    raw["ih"]["extensions"]["filter"] = f"__import__('os').system('touch {marker}')"
    raw["metrics"]["conversion"]["filter"] = "np.random.normal(3.5) > 1"
    errors = _errors(raw)
    assert any(e.startswith("ih.extensions.filter: ") and "__import__" in e for e in errors)
    assert any(e.startswith("metrics.conversion.filter: unsupported call np.random.normal") for e in errors)
    assert not marker.exists()


def test_cli_prints_one_error_per_line_with_exit_code_1(tmp_path, capsys):
    text = TEMPLATE.read_text().replace('group_by = ["Year", "Channel", "PlacementType", "PropensitySource"]',
                                        'group_by = ["Year", "Chanel"]')
    config = tmp_path / "config.toml"
    config.write_text(text)
    assert main(["compile", str(config), "-o", str(tmp_path / "out"), "--warehouse", str(tmp_path / "w.duckdb")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and all(re.match(r"^[\w.\[\]]+: ", line) for line in lines)
    assert any(line.startswith("metrics.experiment.group_by[1]: unknown column 'Chanel'") for line in lines)
    assert not (tmp_path / "out").exists()


def test_compiled_macro_round_trips_any_expression_text():
    vars_ = {"ih": {"filter_sql": "\"A\" LIKE '%{% endraw %}{{ x }}%'"}, "n": [1, 2]}
    text = dbt_macro_text(vars_)
    payload = text.split("{% raw %}", 1)[1].split("{% endraw %}", 1)[0]
    assert "{%" not in payload and "%}" not in payload
    assert json.loads(payload) == vars_
