"""The CLV engine's files, written from the marts once a build is live: a JSON model card per
row of mart_clv__model_cards and a Markdown alert per drifting run of mart_clv__drift.

dbt models only return tables; these files are a view of them for people, so they are written
after the swap (a failed build writes none) and rewriting them changes nothing. Each CLV metric's
files go to its `model_card_dir` and `alert_dir` (defaults clv_model_cards/ and clv_alerts/),
relative paths beside the warehouse. A Spark build writes them too, from its own session
(valuemarts.spark.launcher), beside the Spark warehouse's files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from python_udfs.clv.engine.cards import ModelCard, write_card_files
from python_udfs.clv.engine.drift import write_alert
from python_udfs.clv.engine.settings import ClvSettings, output_dir
from valuemarts.dbt_runner import CLV_FILES
from valuemarts.duck import connect
from valuemarts.reports.query import load_metrics

# SQL both engines run; the pickled models (model_state) are no part of a card file.
CARDS = "select * from marts.mart_clv__model_cards"
ALERTS = "select * from marts.mart_clv__drift where is_drift"


def write_clv_files(warehouse: Path, query: Callable[[str], pl.DataFrame] | None = None) -> list[Path]:
    """Write the model cards and drift alerts of the warehouse's CLV metrics; the paths written.

    Cards and alerts of metrics no longer in the warehouse's config are left where they are.

    Parameters
    ----------
    warehouse : Path
        The DuckDB warehouse; on Spark the warehouse's landing file
        (valuemarts.spark.session.SparkWarehouse.landing_db), beside which its compiled config is
        and the files go.
    query : callable, optional
        Runs a SELECT on the warehouse and returns its rows; by default a read-only DuckDB
        connection to `warehouse`, on Spark the build's session.

    Returns
    -------
    list of Path
        The card and alert files written.
    """
    settings = [ClvSettings.from_config(m) for m in load_metrics(warehouse).values() if m["family"] == "clv"]
    if not settings:
        return []
    if query is None:
        con = connect(warehouse, read_only=True)
        try:
            cards, alerts = con.execute(CARDS).pl(), con.execute(ALERTS).pl()
        finally:
            con.close()
    else:
        cards, alerts = query(CARDS), query(ALERTS)
    cards = cards.drop("model_state").sort("model_id")
    alerts = alerts.sort("metric_name", "cutoff")
    written: list[Path] = []
    for s in settings:
        own_cards = [ModelCard.from_row(row) for row in cards.iter_rows(named=True) if row["metric_name"] == s.metric_name]
        if own_cards:
            directory = output_dir(str(warehouse), s.model_card_dir)
            write_card_files(own_cards, directory)
            written += [directory / f"{card.model_id}.json" for card in own_cards]
        for row in alerts.iter_rows(named=True):
            if row["metric_name"] == s.metric_name:
                written.append(write_alert(row, output_dir(str(warehouse), s.alert_dir)))
    return written


def written_line(written: list[Path]) -> str:
    """The line a build logs about the CLV files it wrote (from the Spark launcher,
    valuemarts.dbt_runner.progress_line passes it on)."""
    return f"{CLV_FILES}{len(written)} model card(s) and alert(s) under {sorted({str(p.parent) for p in written})}"
