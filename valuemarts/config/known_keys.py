"""The TOML keys the compiler knows, and warnings for the ones it doesn't.

A misspelt optional key (`file_patern`, `use_tdigest`) is silently ignored by the reference system
and would be here too: the config compiles, but with the default the user meant to change. A
warning naming the key path, with the closest known key, catches that without refusing configs
that carry keys for other tools. Only tables whose keys the compiler fully knows are checked;
`[ux]`, `[variants]`, `[copyright]` and `[chat_with_data]` belong to the reference UI.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from valuemarts.config.families import FAMILIES, family_of

SECTIONS = frozenset({"copyright", "ux", "ih", "holdings", "metrics", "reports", "variants", "chat_with_data"})

# `streaming` and `background` tune the reference's Polars engine; they are accepted and unused.
_SOURCE_COMMON = frozenset({"file_type", "file_pattern", "hive_partitioning", "streaming", "background",
                            "extensions"})
SOURCE_KEYS: dict[str, frozenset[str]] = {
    "ih": _SOURCE_COMMON | {"ih_group_pattern"},
    "holdings": _SOURCE_COMMON | {"file_group_pattern"},
}
EXTENSION_KEYS = frozenset({"filter", "columns", "default_values"})

_METRIC_COMMON = frozenset({"group_by", "filter", "scores"})
_LABELLED = frozenset({"positive_model_response", "negative_model_response"})
_FAMILY_KEYS: dict[str, frozenset[str]] = {
    "engagement": frozenset(),
    "conversion": frozenset(),
    "model_ml_scores": frozenset({"use_t_digest"}),
    "descriptive": frozenset({"use_t_digest", "columns"}),
    "experiment": frozenset({"experiment_name", "experiment_group", "control_group", "expected_split",
                             "no_experiment_value", "randomization_unit"}),
    "clv": frozenset({
        "order_id_col", "customer_id_col", "monetary_value_col", "purchase_date_col", "recurring_period",
        "recurring_cost", "model", "lifespan", "rfm_segment_config", "observation_end", "time_unit",
        "horizon_months", "discount_rate", "history_months", "pred_months", "train_cutoff", "holdout_folds",
        "grid_history_months", "grid_pred_months", "tier_shares", "tier_labels", "n_clusters", "seed",
        "drift_rmse_increase", "drift_r2_decrease", "alert_dir", "model_card_dir"}),
}

# The reference's report vocabulary (report_builder/serialization.py and the plot modules).
REPORT_KEYS = frozenset({
    "metric", "type", "description", "group_by", "x", "y", "color", "size", "r", "theta", "value",
    "facet_row", "facet_column", "animation_frame", "animation_group", "score", "property", "stages",
    "reference", "log_x", "log_y", "showlegend",
})


def metric_keys(family: str) -> frozenset[str]:
    """Every key a metric table of `family` may hold."""
    labelled = _LABELLED if FAMILIES[family].labelled else frozenset()
    return _METRIC_COMMON | labelled | _FAMILY_KEYS[family]


def unknown_key_warnings(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """(key path, message) for every key the compiler doesn't know, section by section.

    Tables of the wrong type are skipped: the compiler reports those as errors.
    """
    found = _unknown(raw, SECTIONS, "")
    for section, known in SOURCE_KEYS.items():
        source = raw.get(section)
        if isinstance(source, dict):
            found += _unknown(source, known, f"{section}.")
            if isinstance(source.get("extensions"), dict):
                found += _unknown(source["extensions"], EXTENSION_KEYS, f"{section}.extensions.")
    metrics = raw.get("metrics")
    for name, metric in (metrics.items() if isinstance(metrics, dict) else ()):
        family = family_of(name)
        if family is not None and isinstance(metric, dict):
            found += _unknown(metric, metric_keys(family.name), f"metrics.{name}.")
    reports = raw.get("reports")
    for name, report in (reports.items() if isinstance(reports, dict) else ()):
        if isinstance(report, dict):
            found += _unknown(report, REPORT_KEYS, f"reports.{name}.")
    return found


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name `name` was most likely meant to be, if any is close."""
    matches = difflib.get_close_matches(name, sorted(known), n=1)
    return matches[0] if matches else None


def _unknown(table: dict[str, Any], known: frozenset[str], prefix: str) -> list[tuple[str, str]]:
    found = []
    for key in table:
        if key not in known:
            meant = closest(key, known)
            message = f"unknown key (did you mean {meant}?)" if meant else "unknown key, ignored"
            found.append((f"{prefix}{key}", message))
    return found
