"""The reference's counting rules replayed in SQL on the raw demo files, to explain differences.

Where valuemarts and the reference disagree on a count, the agreement table says which reference
weakness causes it. This module makes that checkable: it applies the reference's documented rules
(metrics-spec sections 1-5) to the raw rows, in DuckDB, and `bench compare` checks that the
result reproduces the reference's numbers exactly. If it does, the whole difference from
valuemarts comes from those rules:

- dedup on (InteractionID, ActionID, Rank, Outcome) inside one file group only (weakness 6);
- "positive wins": every row of the winning class kept per offer and file group (weakness 4);
- cells dropped: engagement state cells without negatives, conversion cells without negatives
  per file group, model cells without a positive per file group (weakness 7).

It reads the demo's raw Pega columns (`valuemarts demo-data`, parquet, one `Day=` folder per
file group; holdings with `pxHoldingID`) and the template's defaults (PlacementType and PropensitySource 'N/A',
ModelControlGroup 'Test', Revenue 0.0) and global filter (Channel not null).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from valuemarts import duck

_STAGED = """
select distinct on (file_group, InteractionID, ActionID, Rank, Outcome) *,
       strftime(Day, '%Y-%m') as Month, year(Day) as Year, year(Day) || '_Q' || quarter(Day) as Quarter
from (
    select regexp_extract(filename, 'Day=([^/]+)', 1) as file_group,
           pxInteractionID as InteractionID, pyIssue || '/' || pyGroup || '/' || pyName as ActionID,
           pxRank as Rank, pyOutcome as Outcome, pyChannel as Channel,
           coalesce(PlacementType, 'N/A') as PlacementType, coalesce(PropensitySource, 'N/A') as PropensitySource,
           pyIssue as Issue, pyGroup as "Group", coalesce(ModelControlGroup, 'Test') as ModelControlGroup,
           cast(strptime(substr(pxOutcomeTime, 1, 8), '%Y%m%d') as date) as Day,
           pyPropensity as Propensity, coalesce(Revenue, 0.0) as Revenue
    from read_parquet({files}, filename = true, hive_partitioning = false)
    where pyChannel is not null
)
"""


def replay_sql(family: str, metric: dict[str, Any], global_filters: list[str], by: list[str], files: str) -> str:
    """A SELECT of the reference's report columns for `family` at grouping `by`, by its rules.

    Labelled families (engagement, conversion, model_ml_scores) give Count, Positives, Negatives,
    the family's rate and Revenue; descriptive gives Propensity_Count and Propensity_Mean.
    """
    groups = ", ".join(_quote(c) for c in by)
    if family == "descriptive":
        return (f"with staged as ({_STAGED.format(files=_literal(files))}) select {groups}, "
                f"count(Propensity) as Propensity_Count, avg(Propensity) as Propensity_Mean from staged group by all")
    cell = ", ".join(_quote(c) for c in _cell_keys(family, metric, global_filters))
    rate = "ConversionRate" if family == "conversion" else "CTR"
    return f"""
{_kept_rows(family, metric, global_filters, files)},
cells as (
    select file_group, {cell}, count(*) as Count, sum(y) as Positives, sum(Revenue) as Revenue
    from kept group by all {"having count(*) > sum(y)" if family == "conversion" else ""}
),
state as (
    select {cell}, sum(Count) as Count, sum(Positives) as Positives, sum(Revenue) as Revenue
    from cells group by all {"having sum(Count) > sum(Positives)" if family == "engagement" else ""}
)
select {groups}, sum(Count) as Count, sum(Positives) as Positives, sum(Count) - sum(Positives) as Negatives,
       sum(Positives) / sum(Count) as {rate}, sum(Revenue) as Revenue
from state group by all
"""


def _cell_keys(family: str, metric: dict[str, Any], global_filters: list[str]) -> list[str]:
    """The reference's state key of a family: keys(group_by, global filters[, ModelControlGroup])."""
    return list(dict.fromkeys(list(metric["group_by"]) + global_filters
                              + (["ModelControlGroup"] if family == "engagement" else [])))


def _kept_rows(family: str, metric: dict[str, Any], global_filters: list[str], files: str) -> str:
    """The CTEs up to `kept`: the labelled rows the reference keeps, per file group."""
    positive, negative = metric["positive_model_response"], metric["negative_model_response"]
    cell = ", ".join(_quote(c) for c in _cell_keys(family, metric, global_filters))
    ml_rule = f"qualify max(y) over (partition by file_group, {cell}) = 1" if family == "model_ml_scores" else ""
    return f"""
with staged as ({_STAGED.format(files=_literal(files))}),
labelled as (
    select *, (Outcome in ({_list(positive)}))::int as y from staged
    where Outcome in ({_list(positive + negative)}) {ml_rule}
),
kept as (select * from labelled qualify y = max(y) over (partition by file_group, InteractionID, ActionID, Rank))"""


def replay(family: str, metric: dict[str, Any], global_filters: list[str], by: list[str],
           data_dir: Path) -> pl.DataFrame | None:
    """The reference's numbers by its rules on a demo folder (`data_dir/ih`, `data_dir/holdings`);
    None for a family it doesn't cover.

    IH families: `replay_sql`, and for model_ml_scores also `roc_auc` and `average_precision` of
    Propensity by the reference's threshold-grid method (`grid_scores`) on the rows it keeps. CLV:
    per customer, `frequency` = distinct holdings - 1 (its RFM summary).
    """
    files = f"{data_dir / 'ih'}/**/*.parquet"
    with duck.connect() as con:
        if family == "clv":
            holdings = _literal(f"{data_dir / 'holdings'}/**/*.parquet")
            groups = ", ".join(_quote(c) for c in [*metric["group_by"], metric["customer_id_col"]])
            return con.execute(f"select {groups}, count(distinct pxHoldingID) - 1 as frequency "
                               f"from read_parquet({holdings}) group by all").pl()
        if family not in ("engagement", "conversion", "model_ml_scores", "descriptive"):
            return None
        report = con.execute(replay_sql(family, metric, global_filters, by, files)).pl()
        if family != "model_ml_scores":
            return report
        groups = ", ".join(_quote(c) for c in by)
        rows = con.execute(f"{_kept_rows(family, metric, global_filters, files)} "
                           f"select {groups}, y, Propensity from kept where Propensity is not null").pl()
    scores = [dict(zip(by, key)) | dict(zip(("roc_auc", "average_precision"),
                                            grid_scores(part["y"].to_numpy() == 1, part["Propensity"].to_numpy())))
              for key, part in rows.group_by(by)]
    return report.join(pl.DataFrame(scores, schema_overrides=report.select(by).schema), on=by, how="left")


def grid_scores(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """ROC AUC and AP as the reference computes them from its t-digests, with exact CDFs instead.

    Reference `metrics/ml.py::binary_metrics_tdigest`: TPR and FPR = 1 - CDF at thresholds 0.00,
    0.01, ..., 1.00 (mid-rank CDF: a value at the threshold counts one half); AUC = trapezoids over
    the points sorted by FPR; AP from the interpolated precision. An empty class gives 0, 0.
    """
    positives, negatives = np.sort(score[y]), np.sort(score[~y])
    if not len(positives) or not len(negatives):
        return 0.0, 0.0
    thresholds = np.round(np.linspace(0, 1, num=101), 4)
    tpr, fpr = 1.0 - _mid_rank_cdf(positives, thresholds), 1.0 - _mid_rank_cdf(negatives, thresholds)
    order = np.argsort(fpr)
    fpr_sorted, tpr_sorted = fpr[order], tpr[order]
    roc_auc = float(np.sum((fpr_sorted[1:] - fpr_sorted[:-1]) * (tpr_sorted[1:] + tpr_sorted[:-1]) / 2))
    recall, fp = tpr[::-1], len(negatives) * fpr[::-1]
    tp = len(positives) * recall
    precision = np.maximum.accumulate((tp / (tp + fp + 1e-10))[::-1])[::-1]
    if recall[0] != 0.0:
        recall, precision = np.concatenate(([0.0], recall)), np.concatenate(([1.0], precision))
    return roc_auc, float(np.sum((recall[1:] - recall[:-1]) * precision[1:]))


def _mid_rank_cdf(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The share of sorted `values` below each threshold, values equal to it counted one half,
    and a last 1.0 as DataSketches' get_cdf appends."""
    below = np.searchsorted(values, thresholds, side="left")
    upto = np.searchsorted(values, thresholds, side="right")
    return np.append((below + (upto - below) / 2) / len(values), 1.0)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(values: list[str]) -> str:
    return ", ".join(_literal(v) for v in values)
