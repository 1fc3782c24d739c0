"""Model cards: what was trained, when, by which code, on which windows, and how well it did.

One card per trained model (the baseline and the challenger of every training run), stored as a
row of mart_clv__model_cards; valuemarts.clv_files writes each row as a JSON file after the build.
The row also carries the model itself (python_udfs.clv.engine.stored_models), which this module
leaves alone: writing the files after a build needs no training code (scikit-learn).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import polars as pl

from python_udfs.clv.engine.settings import ClvSettings

# Bump when features, models or training change meaning: the training signature changes with it,
# so the next build trains a new champion instead of scoring with one the code no longer matches.
ENGINE_VERSION = "1"

SCHEMA: dict[str, pl.DataType] = {
    "model_id": pl.String, "metric_name": pl.String, "trained_at": pl.Datetime("us", "UTC"),
    "code_version": pl.String, "training_signature": pl.String, "train_cutoff": pl.Date, "data_end": pl.Date,
    "history_months": pl.Int32, "pred_months": pl.Int32, "time_unit": pl.String, "model_type": pl.String,
    "is_champion": pl.Boolean, "params_json": pl.String, "baseline_rmse": pl.Float64, "baseline_r2": pl.Float64,
    "value_cap": pl.Float64,
    "customers": pl.Int64, "holdout_folds": pl.Int32, "grid_json": pl.String, "model_state": pl.Binary,
}


def code_version() -> str:
    try:
        package = version("valuemarts")
    except PackageNotFoundError:
        package = "unknown"
    return f"valuemarts {package}, clv engine {ENGINE_VERSION}"


def training_signature(settings: ClvSettings) -> str:
    """Hash of everything that defines a champion; a new signature means a new champion is trained."""
    keys = {"metric": settings.metric_name, "history_months": settings.history_months,
            "pred_months": settings.pred_months, "train_cutoff": str(settings.train_cutoff),
            "time_unit": settings.time_unit, "holdout_folds": settings.holdout_folds, "seed": settings.seed,
            "engine": ENGINE_VERSION}
    return hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ModelCard:
    model_id: str
    metric_name: str
    trained_at: datetime
    code_version: str
    training_signature: str
    train_cutoff: date
    data_end: date
    history_months: int
    pred_months: int
    time_unit: str
    model_type: str
    is_champion: bool
    params: dict
    baseline_rmse: float
    baseline_r2: float | None
    value_cap: float
    customers: int
    holdout_folds: int
    grid: list[dict]

    @classmethod
    def from_row(cls, row: dict) -> ModelCard:
        """The card of a mart_clv__model_cards row (a dict of SCHEMA's columns; model_state unused)."""
        fields = {name: row[name] for name in cls.__dataclass_fields__ if name not in ("params", "grid")}
        fields["trained_at"] = row["trained_at"].astimezone(timezone.utc)
        return cls(**fields, params=json.loads(row["params_json"]), grid=json.loads(row["grid_json"]))

    def to_json(self) -> str:
        card = asdict(self)
        for key in ("trained_at", "train_cutoff", "data_end"):
            card[key] = card[key].isoformat()
        return json.dumps(card, indent=2) + "\n"


def write_card_files(cards: list[ModelCard], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for card in cards:
        (directory / f"{card.model_id}.json").write_text(card.to_json(), encoding="utf-8")
