"""Metric families: chosen by the metric table's name prefix, as in the reference system."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    source: str            # "ih" or "holdings"
    labelled: bool         # uses positive/negative outcome lists
    scores: frozenset[str]  # names reports may plot


_ARM_SCORES = {"CTR_Test", "CTR_Control", "Lift", "Lift_Z_Score", "Lift_P_Val"}
_COUNTS = {"Positives", "Negatives", "Count"}

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("engagement", "ih", True, frozenset(
            _COUNTS | _ARM_SCORES | {"CTR", "CTR_ci_low", "CTR_ci_high"})),
        Family("conversion", "ih", True, frozenset(
            _COUNTS | _ARM_SCORES | {"ConversionRate", "Revenue", "RevenuePerConversion", "Touchpoints",
                                     "AvgTouchpoints", "CTR_ci_low", "CTR_ci_high"})),
        Family("model_ml_scores", "ih", True, frozenset(
            _COUNTS | {"roc_auc", "average_precision", "personalization", "novelty",
                       "roc_auc_tdigest", "average_precision_tdigest"})),
        Family("descriptive", "ih", False, frozenset(
            {"Count", "Sum", "Mean", "Median", "p25", "p75", "p90", "p95", "Std", "Var", "Skew", "Min", "Max"})),
        Family("experiment", "ih", True, frozenset(
            _COUNTS | {"CTR", "is_control", "z_score", "z_p_val", "odds_ratio_stat", "odds_ratio_ci_low",
                       "odds_ratio_ci_high", "lift", "p_holm", "p_bh", "chi2_stat", "chi2_p_val", "g_stat",
                       "g_p_val", "srm_p_val", "reason",
                       # the reference's duplicated names, accepted so existing configs keep working
                       "g_odds_ratio_stat", "g_odds_ratio_ci_low", "g_odds_ratio_ci_high",
                       "chi2_odds_ratio_stat", "chi2_odds_ratio_ci_low", "chi2_odds_ratio_ci_high"})),
        Family("clv", "holdings", False, frozenset(
            {"recency", "frequency", "monetary_value", "tenure", "lifetime_value", "T", "expected_purchases",
             "rfm_score", "rfm_segment", "value_tier", "cluster", "customers_count", "unique_holdings"})),
    )
}


def family_of(metric_name: str) -> Family | None:
    """The family whose name prefixes the metric name (`engagement_web` is engagement)."""
    for name, family in FAMILIES.items():
        if metric_name.startswith(name):
            return family
    return None
