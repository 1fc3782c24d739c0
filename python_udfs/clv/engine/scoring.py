"""A scoring run: the champion's predicted value at a cutoff for the whole customer base, with
value tiers and behavioural clusters.

The base is every customer who bought on or before the cutoff. Customers without a purchase in the
history window have no features: the champion cannot see them, they are predicted 0, ranked last
(tiers cover the whole base, so "Top 1%" means 1% of all customers) and get no cluster.
"""

from __future__ import annotations

import polars as pl

from python_udfs.clv.engine.clusters import cluster_customers
from python_udfs.clv.engine.features import FEATURES, history_features
from python_udfs.clv.engine.settings import ClvSettings, for_metric
from python_udfs.clv.engine.stored_models import load_model
from python_udfs.clv.engine.threads import single_threaded
from python_udfs.clv.engine.tiers import rank_by_value, tier_labels
from python_udfs.clv.engine.training import TrainedModel
from python_udfs.clv.engine.windows import Window

SCHEMA: dict[str, pl.DataType] = {
    "metric_name": pl.String, "cutoff": pl.Date, "pred_end": pl.Date, "model_id": pl.String,
    "history_months": pl.Int32, "pred_months": pl.Int32, "customer_key": pl.String, "scored": pl.Boolean,
    **{name: pl.Float64 for name in FEATURES},
    "predicted_value": pl.Float64, "value_rank": pl.Int64, "value_tier": pl.String, "cluster": pl.Int32,
    "clv_index": pl.Float64,
}


@single_threaded
def score(periods: pl.DataFrame, model: TrainedModel, model_id: str, window: Window,
          settings: ClvSettings) -> pl.DataFrame:
    """Predictions at `window.cutoff` (value over `window.pred_months`), rows in SCHEMA."""
    known = periods.filter(pl.col("purchase_date") <= window.cutoff)
    base = known.select(pl.col("customer_key").unique()).sort("customer_key")
    features = history_features(known, window, settings.time_unit)
    if features.height:
        predicted = model.predict(features, window.pred_length(settings.time_unit))
        clusters = cluster_customers(features, predicted, settings.n_clusters, settings.seed)
        features = features.with_columns(
            predicted_value=pl.Series(predicted),
            cluster=pl.Series(clusters.cluster, dtype=pl.Int32),
            clv_index=pl.Series(clusters.clv_index),
        )
    else:
        features = features.with_columns(predicted_value=pl.lit(0.0), cluster=pl.lit(None, pl.Int32),
                                          clv_index=pl.lit(None, pl.Float64))
    rows = base.join(features, on="customer_key", how="left").with_columns(
        scored=pl.col("predicted_value").is_not_null(),
        predicted_value=pl.col("predicted_value").fill_null(0.0),
    )
    rank = rank_by_value(rows["predicted_value"].to_numpy(), rows["customer_key"].to_numpy())
    return rows.with_columns(
        metric_name=pl.lit(settings.metric_name),
        cutoff=pl.lit(window.cutoff),
        pred_end=pl.lit(window.pred_end),
        model_id=pl.lit(model_id),
        history_months=pl.lit(window.history_months),
        pred_months=pl.lit(window.pred_months),
        value_rank=pl.Series(rank),
        value_tier=pl.Series(tier_labels(rank, settings.tier_shares, settings.tier_labels), dtype=pl.String),
    ).select([pl.col(c).cast(t) for c, t in SCHEMA.items()])


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def latest_champion(cards: pl.DataFrame, manifest: pl.DataFrame, metric_name: str) -> dict | None:
    """The card row of the metric's most recently promoted champion, or None."""
    promoted = manifest.filter(pl.col("metric_name") == metric_name).sort("promoted_at", "model_id")
    if promoted.height == 0:
        return None
    model_id = promoted["model_id"][-1]
    return cards.filter(pl.col("model_id") == model_id).row(0, named=True)


def new_predictions(settings: list[ClvSettings], periods: pl.DataFrame, cards: pl.DataFrame,
                    manifest: pl.DataFrame, scored: pl.DataFrame | None) -> pl.DataFrame:
    """mart_clv__predictions' new rows: each metric scored by its champion at its observation end,
    unless that cutoff was scored before (`scored`: metric_name, cutoff already in the mart)."""
    frames = [empty()]
    done = set() if scored is None else set(zip(scored["metric_name"], scored["cutoff"]))
    for s in settings:
        own = for_metric(periods, s.metric_name)
        card = latest_champion(cards, manifest, s.metric_name)
        if own.height == 0 or card is None:
            continue
        cutoff = own["observation_end"].max()
        if (s.metric_name, cutoff) in done:
            continue
        window = Window(cutoff, card["history_months"], card["pred_months"])
        frames.append(score(own, load_model(card), card["model_id"], window, s))
    return pl.concat(frames)
