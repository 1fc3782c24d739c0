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
file group) and the template's defaults (PlacementType and PropensitySource 'N/A',
ModelControlGroup 'Test', Revenue 0.0) and global filter (Channel not null).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    staged = _STAGED.format(files=_literal(files))
    groups = ", ".join(_quote(c) for c in by)
    if family == "descriptive":
        return (f"with staged as ({staged}) select {groups}, count(Propensity) as Propensity_Count, "
                f"avg(Propensity) as Propensity_Mean from staged group by all")
    keys = list(dict.fromkeys(list(metric["group_by"]) + global_filters
                              + (["ModelControlGroup"] if family == "engagement" else [])))
    cell = ", ".join(_quote(c) for c in keys)
    positive, negative = metric["positive_model_response"], metric["negative_model_response"]
    ml_rule = (f"qualify max(y) over (partition by file_group, {cell}) = 1" if family == "model_ml_scores" else "")
    rate = "ConversionRate" if family == "conversion" else "CTR"
    return f"""
with staged as ({staged}),
labelled as (
    select *, (Outcome in ({_list(positive)}))::int as y from staged
    where Outcome in ({_list(positive + negative)}) {ml_rule}
),
kept as (select * from labelled qualify y = max(y) over (partition by file_group, InteractionID, ActionID, Rank)),
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


def replay(family: str, metric: dict[str, Any], global_filters: list[str], by: list[str], ih_dir: Path) -> pl.DataFrame:
    """`replay_sql` run on the parquet files under `ih_dir`."""
    with duck.connect() as con:
        return con.execute(replay_sql(family, metric, global_filters, by, f"{ih_dir}/**/*.parquet")).pl()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(values: list[str]) -> str:
    return ", ".join(_literal(v) for v in values)
