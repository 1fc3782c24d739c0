"""Trained models in card rows: a row of mart_clv__model_cards carries its model (`model_state`:
the pickled regressor; the baseline is fully described by its parameters), so a later build
scores with exactly the champion that was trained, not a re-fit on changed data.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict

import polars as pl

from python_udfs.clv.engine.baseline import Baseline
from python_udfs.clv.engine.boosting import PARAMS as BOOSTER_PARAMS
from python_udfs.clv.engine.cards import SCHEMA, ModelCard
from python_udfs.clv.engine.training import BASELINE, TrainedModel


def model_params(model: TrainedModel) -> dict:
    params = {"bgnbd": model.baseline.bgnbd, "gamma_gamma": model.baseline.gamma_gamma}
    if model.model_type != BASELINE:
        params["booster"] = BOOSTER_PARAMS
    return params


def cards_frame(cards: list[ModelCard], models: list[TrainedModel]) -> pl.DataFrame:
    """Rows in SCHEMA; `models[i]` is the model of `cards[i]`."""
    rows = [{
        **{k: v for k, v in asdict(card).items() if k not in ("params", "grid")},
        "params_json": json.dumps(card.params, sort_keys=True),
        "grid_json": json.dumps(card.grid),
        "model_state": pickle.dumps(model.booster) if model.booster is not None else None,
    } for card, model in zip(cards, models)]
    return pl.DataFrame(rows, schema=SCHEMA)


def load_model(card: dict) -> TrainedModel:
    """The model of a card row (a dict of SCHEMA's columns), as it was trained.

    Unpickles `model_state`, which this engine wrote into the warehouse itself; the warehouse is
    trusted input here, as it is for every other mart.
    """
    params = json.loads(card["params_json"])
    booster = pickle.loads(card["model_state"]) if card["model_state"] is not None else None
    return TrainedModel(card["model_type"], Baseline(params["bgnbd"], params["gamma_gamma"]), booster,
                        card["baseline_rmse"], card["baseline_r2"], card["value_cap"])
