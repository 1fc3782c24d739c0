"""Pega set-ups with only IH or only holdings: the config compiles, builds and reports, the other
side's marts exist empty, and the numbers match raw rows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.raw_reference import labelled, read_ih_zips, staged
from valuemarts.cli import main
from valuemarts.demo import write_demo

IH_MARTS = ("mart_engagement", "mart_conversion", "mart_experiment", "mart_model_ml_scores", "mart_descriptive")
CLV_MARTS = ("mart_clv__customers", "mart_clv__predictions", "mart_clv__model_fits")


def drop_sections(text: str, keep) -> str:
    """The TOML text without the tables (and their sub-tables) for which `keep(name, body)` is false."""
    blocks = re.split(r"(?m)^(?=\[)", text)
    kept, dropped = [], []
    for block in blocks:
        header = re.match(r"\[([^\]]+)\]", block)
        name = header.group(1) if header else None
        if name is not None and (name.startswith(tuple(f"{d}." for d in dropped)) or not keep(name, block)):
            dropped.append(name)
        else:
            kept.append(block)
    return "".join(kept)


def report_metric(block: str) -> str | None:
    found = re.search(r"""(?m)^metric = ["']([^"']+)["']""", block)
    return found.group(1) if found else None


def is_report_of(name: str, body: str, metrics: tuple[str, ...]) -> bool:
    """A report table (or one of its sub-tables) whose metric is one of `metrics`."""
    return name.startswith("reports.") and (report_metric(body) or "").startswith(metrics)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("one_sided")
    write_demo(root, rows=4_000, seed=5, days=4, ih_format="zip", holdings_format="csv")
    return root


def build(warehouse: Path, config: Path, *paths: str) -> int:
    return main(["build", "--warehouse", str(warehouse), "--config", str(config), *paths])


def counts(warehouse: Path, tables) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in tables}
    finally:
        con.close()


def report(capsys, warehouse: Path, *args: str) -> list[dict]:
    capsys.readouterr()
    assert main(["report", *args, "--warehouse", str(warehouse), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_ih_only_config_builds_and_reports(demo: Path, tmp_path: Path, capsys):
    text = (demo / "config.toml").read_text()
    config = tmp_path / "ih_only.toml"
    config.write_text(drop_sections(text, lambda name, body: not (
        name.startswith("holdings") or name == "metrics.clv" or is_report_of(name, body, ("clv",)))))
    assert "[holdings" not in config.read_text() and "[metrics.clv]" not in config.read_text()
    warehouse = tmp_path / "warehouse.duckdb"
    assert build(warehouse, config, "--ih", str(demo / "ih")) == 0
    assert all(n > 0 for n in counts(warehouse, IH_MARTS).values())

    rows = report(capsys, warehouse, "engagement", "--by", "Channel")
    reference = labelled(staged(read_ih_zips(demo / "ih")), ["Clicked"], ["Impression", "Pending"])
    expected = {r["Channel"]: (r["Positives"], r["Count"]) for r in reference.group_by("Channel").agg(
        pl.col("y").sum().alias("Positives"), pl.len().alias("Count")).iter_rows(named=True)}
    assert {r["Channel"]: (r["Positives"], r["Count"]) for r in rows} == expected

    # Holdings given to a config that has no [holdings] section: refused, nothing changed.
    before = warehouse.read_bytes()
    assert build(warehouse, config, "--holdings", str(demo / "holdings")) == 1
    assert "no [holdings] section" in capsys.readouterr().err
    assert warehouse.read_bytes() == before


def test_holdings_only_config_builds_and_reports(demo: Path, tmp_path: Path, capsys):
    text = (demo / "config.toml").read_text()
    ih_metrics = ("engagement", "conversion", "model_ml_scores", "descriptive", "experiment")
    config = tmp_path / "holdings_only.toml"
    config.write_text(drop_sections(text, lambda name, body: not (
        name == "ih" or name.startswith("ih.") or name.startswith(tuple(f"metrics.{m}" for m in ih_metrics))
        or is_report_of(name, body, ih_metrics))))
    assert "[ih" not in config.read_text() and "[metrics.engagement]" not in config.read_text()
    warehouse = tmp_path / "warehouse.duckdb"
    assert build(warehouse, config, "--holdings", str(demo / "holdings")) == 0
    assert counts(warehouse, IH_MARTS) == dict.fromkeys(IH_MARTS, 0)

    holdings = pl.read_csv(next((demo / "holdings").glob("*.csv")), infer_schema_length=None)
    customers = holdings["CustomerID"].n_unique()
    assert counts(warehouse, CLV_MARTS)["mart_clv__customers"] == customers
    rows = report(capsys, warehouse, "clv")
    assert len(rows) == customers
    # frequency = purchase days after the first (repeat purchases), from the raw rows.
    days = holdings.with_columns(pl.col("pyPurchasedDate").str.slice(0, 8).alias("day")).group_by("CustomerID").agg(
        (pl.col("day").n_unique() - 1).alias("frequency"))
    assert sorted(r["frequency"] for r in rows) == sorted(days["frequency"].to_list())


def test_missing_section_names_the_metric(demo: Path, tmp_path: Path, capsys):
    text = (demo / "config.toml").read_text()
    config = tmp_path / "no_holdings.toml"
    config.write_text(drop_sections(text, lambda name, body: not name.startswith("holdings")))
    assert main(["compile", str(config), "-o", str(tmp_path / "out")]) == 1
    assert "holdings: required by metric clv" in capsys.readouterr().err
