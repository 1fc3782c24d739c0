"""The CLV engine's files, written from the marts once a build is live: a JSON model card per
row of mart_clv__model_cards and a Markdown alert per drifting run of mart_clv__drift.

dbt models only return tables; these files are a view of them for people, so they are written
after the swap (a failed build writes none) and rewriting them changes nothing. Each CLV metric's
files go to its `model_card_dir` and `alert_dir` (defaults clv_model_cards/ and clv_alerts/),
relative paths beside the warehouse.
"""

from __future__ import annotations

from pathlib import Path

from python_udfs.clv.engine.cards import ModelCard, write_card_files
from python_udfs.clv.engine.drift import write_alert
from python_udfs.clv.engine.settings import ClvSettings, output_dir
from valuemarts.duck import connect
from valuemarts.reports.query import load_metrics

CARDS = "marts.mart_clv__model_cards"
DRIFT = "marts.mart_clv__drift"


def write_clv_files(warehouse: Path) -> list[Path]:
    """Write the model cards and drift alerts of the warehouse's CLV metrics; the paths written.

    Cards and alerts of metrics no longer in the warehouse's config are left where they are.
    """
    settings = [ClvSettings.from_config(m) for m in load_metrics(warehouse).values() if m["family"] == "clv"]
    if not settings:
        return []
    con = connect(warehouse, read_only=True)
    try:
        cards = con.execute(f"select * exclude (model_state) from {CARDS} order by model_id").pl()
        alerts = con.execute(f"select * from {DRIFT} where is_drift order by metric_name, cutoff").pl()
    finally:
        con.close()
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
