"""Training a champion when a metric has none for its current training signature.

A champion stays in place across builds (predictions from one model are comparable over time,
and drift is measured against its own baseline) until the settings that define it change:
windows, training cutoff, seed, holdout folds or engine version. To retrain on newer data, set
`train_cutoff` to a later date. The default cutoff is the latest one whose prediction window has
matured: the observation end minus pred_months.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import polars as pl

from python_udfs.clv.engine.baseline import NotEnoughData
from python_udfs.clv.engine.cards import SCHEMA, ModelCard, code_version, training_signature
from python_udfs.clv.engine.grid import grid_search
from python_udfs.clv.engine.settings import ClvSettings, for_metric
from python_udfs.clv.engine.stored_models import cards_frame, model_params
from python_udfs.clv.engine.threads import single_threaded
from python_udfs.clv.engine.training import BOOSTED, TrainedModel, TrainingRun, train
from python_udfs.clv.engine.windows import Window, add_months


@single_threaded
def train_champion(periods: pl.DataFrame, settings: ClvSettings, data_end: date,
                   trained_at: datetime | None = None) -> tuple[list[ModelCard], list[TrainedModel]]:
    """Cards and models of one training run (baseline and challenger), with the window grid.

    Data after the training window (train cutoff + pred_months) is never used, so a champion is
    judged only on what was known when it was trained. Raises NotEnoughData when the window is thin.
    """
    cutoff = settings.train_cutoff or add_months(data_end, -settings.pred_months)
    window = Window(cutoff, settings.history_months, settings.pred_months)
    if not window.matured(data_end):
        raise NotEnoughData(f"the prediction window after {cutoff} ends after the data ({data_end})")
    known = periods.filter(pl.col("purchase_date") <= window.pred_end)
    points = grid_search(known, window.pred_end, settings.grid_history_months, settings.grid_pred_months,
                         settings.time_unit, settings.holdout_folds, settings.seed)
    run = next((p.run for p in points if p.window == window and p.run is not None), None)
    if run is None:
        run = train(known, window, settings.time_unit, settings.holdout_folds, settings.seed)
    return _cards(run, settings, window.pred_end, [row for p in points for row in p.rows()],
                  trained_at or datetime.now(timezone.utc))


def _cards(run: TrainingRun, settings: ClvSettings, data_end: date, grid: list[dict],
           trained_at: datetime) -> tuple[list[ModelCard], list[TrainedModel]]:
    signature = training_signature(settings)
    champion = run.champion
    cards = [
        ModelCard(
            model_id=f"{settings.metric_name}-{run.window.cutoff:%Y%m%d}-{signature[:8]}-"
                     f"{'gbr' if model.model_type == BOOSTED else 'bg'}",
            metric_name=settings.metric_name, trained_at=trained_at, code_version=code_version(),
            training_signature=signature, train_cutoff=run.window.cutoff, data_end=data_end,
            history_months=run.window.history_months, pred_months=run.window.pred_months,
            time_unit=settings.time_unit, model_type=model.model_type, is_champion=model is champion,
            params=model_params(model), baseline_rmse=model.holdout_rmse,
            baseline_r2=None if model.holdout_r2 != model.holdout_r2 else model.holdout_r2,
            value_cap=model.value_cap,
            customers=run.customers, holdout_folds=run.folds, grid=grid,
        )
        for model in run.candidates
    ]
    return cards, list(run.candidates)


def new_cards(settings: list[ClvSettings], periods: pl.DataFrame, trained: pl.DataFrame | None) -> pl.DataFrame:
    """int_clv__model_cards' new rows: a training run for each metric without a champion for its
    current signature (`trained`: metric_name, training_signature of existing champion cards).
    A metric whose data is too thin to train on gets no card this build (its customers get no tier
    or cluster until it has one)."""
    frames = [pl.DataFrame(schema=SCHEMA)]
    done = set() if trained is None else set(zip(trained["metric_name"], trained["training_signature"]))
    for s in settings:
        own = for_metric(periods, s.metric_name)
        if own.height == 0 or (s.metric_name, training_signature(s)) in done:
            continue
        try:
            cards, models = train_champion(own, s, own["observation_end"].max())
        except NotEnoughData:
            continue
        frames.append(cards_frame(cards, models))
    return pl.concat(frames)
