"""`valuemarts init-config`: a config drafted from samples that `build` accepts and whose reports
run, on every demo format and on Pega exports with missing columns; the outcome split, defaults
and escaping checked on hand-made samples."""

from __future__ import annotations

import tomllib
from pathlib import Path

import polars as pl
import pytest

from tests.pega_files import export_name, ih_row, write_export_zip
from valuemarts.api import Warehouse, draft_config
from valuemarts.bench.compare import report_calls
from valuemarts.cli import main
from valuemarts.config.compiler import compile_file
from valuemarts.demo import write_demo
from valuemarts.draft.config_text import IH_DEFAULTS
from valuemarts.errors import ValueMartsError


def _quiet(_message: str) -> None:
    pass


def _draft(tmp_path: Path, *samples: Path) -> tuple[Path, dict]:
    out = tmp_path / "drafted.toml"
    assert main(["init-config", *map(str, samples), "-o", str(out)]) == 0
    return out, tomllib.loads(out.read_text())


def _run_every_report(warehouse: Path, config: Path) -> int:
    """Every configured report answered from the built warehouse: the count of report calls."""
    specs = compile_file(config, check_columns=False).report_specs
    calls = report_calls(specs)
    assert calls["skipped"] == [], calls["skipped"]
    reader = Warehouse.open(warehouse)
    for call in calls["run"]:
        frame = reader.report(call["metric"], by=call["by"], property=call["property"])
        assert frame.height > 0, call["report"]
    return len(calls["run"])


def test_demo_parquet_draft_builds_and_every_report_runs(tmp_path):
    write_demo(tmp_path / "demo", rows=8_000, seed=5, days=6, ih_format="parquet", holdings_format="parquet")
    demo = tmp_path / "demo"
    config, parsed = _draft(tmp_path, demo / "ih", demo / "holdings")
    assert parsed["ih"]["file_type"] == "parquet" and parsed["ih"]["hive_partitioning"] is True
    assert parsed["ih"]["ih_group_pattern"] == "Day=([^/]+)"
    assert set(parsed["metrics"]) >= {"engagement", "conversion", "model_ml_scores", "experiment", "descriptive", "clv"}
    warehouse = tmp_path / "warehouse.duckdb"
    Warehouse(warehouse, read_only=False).build(config, ih=demo / "ih", holdings=demo / "holdings", log=_quiet)
    assert _run_every_report(warehouse, config) >= 6


@pytest.mark.parametrize("ih_format, holdings_format", [("zip", "csv"), ("json", "xlsx"), ("zip", "zip")])
def test_each_demo_format_drafts_a_config_that_builds_and_every_report_runs(tmp_path, ih_format, holdings_format):
    demo = tmp_path / "demo"
    write_demo(demo, rows=3_000, seed=2, days=3, ih_format=ih_format, holdings_format=holdings_format)
    config, parsed = _draft(tmp_path, demo / "ih", demo / "holdings")
    assert parsed["ih"]["file_type"] == "pega_ds_export"
    assert parsed["ih"]["file_pattern"] == f"**/*.{ih_format}"
    assert parsed["holdings"]["file_pattern"] == f"**/*.{holdings_format}"
    warehouse = tmp_path / "warehouse.duckdb"
    summary = Warehouse(warehouse, read_only=False).build(config, ih=demo / "ih", holdings=demo / "holdings",
                                                          log=_quiet)
    assert summary.count("new") == 4 and summary.rows_read > 3_000 and summary.models_built
    assert _run_every_report(warehouse, config) >= 6


def _sample(tmp_path: Path, rows: list[dict], name: str = "sample") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    write_export_zip(folder / export_name("20241010"), rows)
    return folder


def test_a_pega_export_with_missing_columns_builds(tmp_path):
    """Only the columns IH must have, plus Channel: no propensity, control group, experiment,
    revenue. The draft defaults what the metrics read, leaves out the metrics it can't feed,
    builds, and its engagement equals a count by hand."""
    rows = []
    for i in range(40):
        outcome = "Clicked" if i % 8 == 0 else "Impression"
        row = ih_row(f"I{i}", outcome, name=f"A{i % 3}", time=f"2024101{i % 3}T10{i:02d}00.000 GMT")
        rows.append({k: v for k, v in row.items() if k in {"pxInteractionID", "pySubjectID", "pyName", "pyOutcome",
                                                            "pxOutcomeTime", "pyChannel"}})
    assert set(rows[0]) == {"pxInteractionID", "pySubjectID", "pyName", "pyOutcome", "pxOutcomeTime", "pyChannel"}
    ih = _sample(tmp_path, rows, "ih")
    config, parsed = _draft(tmp_path, ih)
    assert set(parsed["metrics"]) == {"global_filters", "engagement", "descriptive"}   # no propensity, no experiments
    defaults = parsed["ih"]["extensions"]["default_values"]
    assert defaults == {name: value for name, (value, _) in IH_DEFAULTS.items()}
    assert parsed["metrics"]["global_filters"] == ["Channel", "Year"]
    assert parsed["metrics"]["descriptive"]["columns"] == ["Outcome"]
    warehouse = tmp_path / "warehouse.duckdb"
    Warehouse(warehouse, read_only=False).build(config, ih=ih, log=_quiet)
    (row,) = Warehouse.open(warehouse).report("engagement").iter_rows(named=True)
    assert (row["Positives"], row["Count"]) == (5, 40)
    assert row["Lift"] is None   # every row is Test (the default): no Control arm to compare with
    _run_every_report(warehouse, config)


def test_outcomes_split_by_pegas_standard_labels(tmp_path):
    labels = ["Impression", "Clicked", "Accepted", "Pending", "Rejected", "Conversion", "Opened", "Snoozed",
              'evil"]\n[metrics.injected]\nx = 1']
    rows = [ih_row(f"I{i}", label) for i, label in enumerate(labels)]
    text = draft_config([_sample(tmp_path, rows)])
    parsed = tomllib.loads(text)
    assert "injected" not in parsed["metrics"]
    engagement = parsed["metrics"]["engagement"]
    assert engagement["positive_model_response"] == ["Clicked", "Accepted"]
    assert engagement["negative_model_response"] == ["Impression", "Pending", "Rejected"]
    assert parsed["metrics"]["model_ml_scores"]["positive_model_response"] == ["Clicked", "Accepted"]
    conversion = parsed["metrics"]["conversion"]
    assert (conversion["positive_model_response"], conversion["negative_model_response"]) == (["Conversion"], ["Impression"])
    unplaced = next(line for line in text.splitlines() if line.startswith("# Labels not placed"))
    assert "Opened" in unplaced and "Snoozed" in unplaced and "\\u000A[metrics.injected]" in unplaced


def test_email_opens_are_engagement_when_nothing_is_clicked(tmp_path):
    rows = [ih_row(f"I{i}", label) for i, label in enumerate(["Impression", "Opened", "Impression"])]
    parsed = tomllib.loads(draft_config([_sample(tmp_path, rows)]))
    assert parsed["metrics"]["engagement"]["positive_model_response"] == ["Opened"]
    assert "conversion" not in parsed["metrics"]


def test_without_negatives_there_is_no_labelled_metric(tmp_path):
    parsed = tomllib.loads(draft_config([_sample(tmp_path, [ih_row("I1", "Clicked"), ih_row("I2", "Clicked")])]))
    assert set(parsed["metrics"]) == {"global_filters", "descriptive"}


def test_holdings_dates_and_missing_columns(tmp_path):
    folder = tmp_path / "holdings"
    folder.mkdir()
    pl.DataFrame({"CustomerID": ["C1", "C2"], "HoldingID": ["H1", "H2"], "PurchasedDate": ["2024-01-05", "2024-02-01"],
                  "OneTimeCost": [10.0, 20.0]}).write_csv(folder / "holdings.csv")
    parsed = tomllib.loads(draft_config([folder]))
    assert parsed["holdings"]["file_type"] == "csv" and parsed["holdings"]["file_group_pattern"] == "(.*)"
    assert parsed["holdings"]["extensions"]["columns"] == [
        "[pl.col('PurchasedDate').str.strptime(pl.Date, \"%Y-%m-%d\").alias('PurchasedDateTime')]"]
    assert parsed["metrics"]["clv"]["group_by"] == [] and "recurring_period" not in parsed["metrics"]["clv"]
    config = tmp_path / "h.toml"
    config.write_text(draft_config([folder]))
    summary = Warehouse(tmp_path / "w.duckdb", read_only=False).load(config, holdings=folder, log=_quiet)
    assert summary.rows_read == 2
    pl.DataFrame({"CustomerID": ["C1"], "HoldingID": ["H1"], "PurchasedDate": ["Jan 5 2024"]}).write_csv(
        folder / "holdings.csv")
    text = draft_config([folder])
    assert "clv" not in tomllib.loads(text).get("metrics", {})
    assert "# No CLV metric: the holdings sample lacks OneTimeCost, a PurchasedDate it can parse." in text


def test_bad_samples_are_named(tmp_path):
    with pytest.raises(ValueMartsError, match="no such file or folder"):
        draft_config([tmp_path / "missing"])
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ValueMartsError, match="other.csv: neither IH"):
        draft_config([other])
    existing = tmp_path / "config.toml"
    existing.write_text("keep me")
    assert main(["init-config", str(other), "-o", str(existing)]) == 1 and existing.read_text() == "keep me"


def test_the_viewer_configuration_page_drafts_from_a_sample(tmp_path):
    """The Configuration page's "Draft from sample" puts init-config's text in the editor, and
    shows a bad sample's message instead."""
    import html
    import re

    from viewer.jobs import BuildRunner
    from viewer.marts import Marts
    from viewer.pages.configuration import ConfigurationPage
    from viewer.state import ViewerState

    rows = [ih_row(f"I{i}", label) for i, label in enumerate(["Impression", "Clicked", "Pending"])]
    sample = _sample(tmp_path, rows)
    warehouse = tmp_path / "none.duckdb"
    page = ConfigurationPage(ViewerState(Marts(warehouse)), BuildRunner(warehouse, None))
    page.panel()
    page.samples.value = f"{sample}\n"
    page._draft(None)
    assert page.editor.value == draft_config([sample])
    assert "Drafted from 1 sample path(s)" in html.unescape(re.sub(r"<[^>]+>", "", page.messages.objects[0].object))
    page.samples.value = str(tmp_path / "missing")
    page._draft(None)
    assert "no such file or folder" in page.messages.objects[0].object
    assert page.editor.value == draft_config([sample])   # the draft stays
