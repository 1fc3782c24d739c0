"""The metric families: one registry row each, read by the config compiler, the dbt macros (through
the compiled config) and `valuemarts report`.

A family is chosen by the metric table's name prefix, as in the reference system. An IH family is
one macro file (`macros/metrics/<family>.sql` with `<family>_state` and `<family>_scores`), two
models (the public state `mart_<family>__state` and the mart `mart_<family>`) and its row here;
docs/add-a-metric.md walks through adding one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from valuemarts.config.schema import group_column_type


@dataclass(frozen=True)
class KeyColumn:
    """A column a family's state always keeps beside group_by and the global filters."""

    default: str
    setting: str | None = None   # the metric key that may name another column (experiment_name)


@dataclass(frozen=True)
class PropertyRule:
    """What `valuemarts report --property` selects for a family."""

    selects: str                 # for messages: "score column", "described column"
    choices_macro: str           # dispatched macro returning a metric's choices
    default: str | None = None   # without --property; None scores every choice


@dataclass(frozen=True)
class Family:
    """One metric family.

    `state_model` is the public dbt model reports re-aggregate (None: no mergeable state; CLV
    reports read the CLV marts). `scoring_macro` is called as
    `<macro>(state, metric, by, where_sql, property, helper_states)` by the mart and by `report`;
    `helper_states` maps its keys to further models the scores read. `placeholder_settings` are the
    metric settings the scoring macro reads, for a config without a metric of the family (None: the
    mart's columns depend on the config, so such a mart has only metric_name).
    """

    name: str
    source: str                                   # "ih" or "holdings"
    labelled: bool                                # uses positive/negative outcome lists
    scores: frozenset[str]                        # names reports may plot
    state_model: str | None = None
    scoring_macro: str | None = None
    helper_states: dict[str, str] = field(default_factory=dict)
    key_columns: tuple[KeyColumn, ...] = ()
    property_rule: PropertyRule | None = None
    placeholder_settings: dict[str, Any] | None = None

    def key_columns_of(self, metric: dict[str, Any]) -> list[str]:
        """The family's key columns for one compiled (or compiling) metric.

        Parameters
        ----------
        metric : dict
            The metric's settings; a key column's `setting` there overrides its default name.

        Returns
        -------
        list of str
            Column names, in state order.
        """
        return [metric.get(key.setting, key.default) if key.setting else key.default for key in self.key_columns]

    def placeholder_metric(self) -> dict[str, Any] | None:
        """A metric with the family's defaults and no grouping, which gives the state and mart of a
        config without a metric of the family their columns (None when the family has none)."""
        if self.placeholder_settings is None:
            return None
        settings = {key.setting: key.default for key in self.key_columns if key.setting}
        return {
            "name": "",
            "family": self.name,
            "group_by": [],
            "filter_sql": None,
            "scores": [],
            "group_columns": [{"name": key.default, "type": group_column_type(key.default, self.source)}
                              for key in self.key_columns],
            **settings,
            **self.placeholder_settings,
        }


_ARM_SCORES = {"CTR_Test", "CTR_Control", "Lift", "Lift_Z_Score", "Lift_P_Val"}
_COUNTS = {"Positives", "Negatives", "Count"}
_MODEL_CONTROL_GROUP = (KeyColumn("ModelControlGroup"),)

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("engagement", "ih", True, frozenset(_COUNTS | _ARM_SCORES | {"CTR", "CTR_ci_low", "CTR_ci_high"}),
               state_model="mart_engagement__state", scoring_macro="engagement_scores",
               key_columns=_MODEL_CONTROL_GROUP, placeholder_settings={}),
        Family("conversion", "ih", True, frozenset(
            _COUNTS | _ARM_SCORES | {"ConversionRate", "Revenue", "RevenuePerConversion", "Touchpoints",
                                     "AvgTouchpoints", "CTR_ci_low", "CTR_ci_high"}),
               state_model="mart_conversion__state", scoring_macro="conversion_scores",
               key_columns=_MODEL_CONTROL_GROUP, placeholder_settings={}),
        Family("model_ml_scores", "ih", True, frozenset(
            _COUNTS | {"roc_auc", "average_precision", "personalization", "novelty",
                       "roc_auc_tdigest", "average_precision_tdigest"}),
               state_model="mart_model_ml_scores__state", scoring_macro="model_ml_scores_scores",
               helper_states={"action_state": "mart_model_ml_scores__action_state"},
               property_rule=PropertyRule("score column", "model_ml_scores_properties", default="Propensity"),
               placeholder_settings={"use_t_digest": False}),
        Family("descriptive", "ih", False, frozenset(
            {"Count", "Sum", "Mean", "Median", "p25", "p75", "p90", "p95", "Std", "Var", "Skew", "Min", "Max"}),
               state_model="mart_descriptive__state", scoring_macro="descriptive_scores",
               property_rule=PropertyRule("described column", "descriptive_described_columns")),
        Family("experiment", "ih", True, frozenset(
            _COUNTS | {"CTR", "is_control", "z_score", "z_p_val", "odds_ratio_stat", "odds_ratio_ci_low",
                       "odds_ratio_ci_high", "lift", "p_holm", "p_bh", "chi2_stat", "chi2_p_val", "g_stat",
                       "g_p_val", "srm_p_val", "srm_impressions_p_val", "units", "reason",
                       # the reference's duplicated names, accepted so existing configs keep working
                       "g_odds_ratio_stat", "g_odds_ratio_ci_low", "g_odds_ratio_ci_high",
                       "chi2_odds_ratio_stat", "chi2_odds_ratio_ci_low", "chi2_odds_ratio_ci_high"}),
               state_model="mart_experiment__state", scoring_macro="experiment_scores",
               key_columns=(KeyColumn("ExperimentName", "experiment_name"),
                            KeyColumn("ExperimentGroup", "experiment_group")),
               helper_states={"unit_state": "mart_experiment__unit_state"},
               placeholder_settings={"control_group": None, "expected_split": None, "no_experiment_value": "N/A",
                                     "randomization_unit": "SubjectID"}),
        Family("clv", "holdings", False, frozenset(
            {"recency", "frequency", "monetary_value", "tenure", "lifetime_value", "T", "expected_purchases",
             "rfm_score", "rfm_segment", "value_tier", "cluster", "customers_count", "unique_holdings"})),
    )
}


def family_of(metric_name: str) -> Family | None:
    """The family whose name prefixes the metric name (`engagement_web` is engagement).

    Parameters
    ----------
    metric_name : str
        A metric table name from the config's [metrics].

    Returns
    -------
    Family or None
        None when no family name prefixes it.
    """
    for name, family in FAMILIES.items():
        if metric_name.startswith(name):
            return family
    return None


def placeholder_metrics() -> dict[str, dict[str, Any]]:
    """Each family's placeholder metric (families without one left out), for the compiled config."""
    return {name: metric for name, family in FAMILIES.items() if (metric := family.placeholder_metric()) is not None}
