"""The experiment ledger: each build's statistics of every experiment arm, kept for good, and
the peeking flag read from them.

A snapshot is the experiment report over all data (one row per experiment and arm, what
`valuemarts report experiment` gives without --by), taken from the warehouse a build has just
swapped in. Snapshots are never updated, so the trend of lift, p-value and sample size across
builds is what each build showed at the time.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import polars as pl

from valuemarts.history.store import frame, now, opened_history, transaction

# The level at which an arm counts as significant, on its Holm-adjusted p-value: the same
# reading the experiment page gives.
SIGNIFICANCE_LEVEL = 0.05

_SNAPSHOT_COLUMNS = {"is_control": "is_control", "Positives": "positives", "Negatives": "negatives",
                     "Count": "count", "units": "units", "CTR": "ctr", "lift": "lift", "lift_ci_low": "lift_ci_low",
                     "lift_ci_high": "lift_ci_high", "z_p_val": "z_p_val", "p_holm": "p_holm", "p_bh": "p_bh",
                     "srm_p_val": "srm_p_val", "srm_impressions_p_val": "srm_impressions_p_val"}


def snapshot_experiments(con: sqlite3.Connection, run_id: int, config_version: int | None, warehouse: Path) -> int:
    """Record every experiment metric's arms, as the warehouse now reports them, under `run_id`.

    Returns
    -------
    int
        The arm rows recorded (0 for a config without experiment metrics).
    """
    from valuemarts.api import Warehouse
    from valuemarts.reports.query import load_metrics

    reader = Warehouse.open(warehouse)
    built_at = now()
    rows: list[tuple[Any, ...]] = []
    for name, metric in load_metrics(warehouse).items():
        if metric.get("family") != "experiment":
            continue
        report = reader.report(name, by=[metric["experiment_name"]])
        for row in report.iter_rows(named=True):
            values = [row.get(column) for column in _SNAPSHOT_COLUMNS]
            rows.append((run_id, built_at, config_version, name, str(row[metric["experiment_name"]]),
                         str(row[metric["experiment_group"]]), *values))
    columns = ["run_id", "built_at", "config_version", "metric_name", "experiment", "arm", *_SNAPSHOT_COLUMNS.values()]
    with transaction(con):
        con.executemany(f"insert into experiment_snapshots ({', '.join(columns)}) "
                        f"values ({', '.join('?' for _ in columns)})", rows)
    return len(rows)


def experiment_history(warehouse: Path, experiment: str | None = None) -> pl.DataFrame:
    """Every snapshot of every arm (of `experiment` only, if given), oldest build first, with the
    experiment's peeking flag and the dates its significance came and went.

    An experiment is flagged when any of its non-control arms was significant (Holm-adjusted
    p-value below SIGNIFICANCE_LEVEL) in one snapshot and not in a later one: a decision taken
    at the first date would have been premature.
    """
    with opened_history(warehouse) as con:
        snapshots = frame(con, """
            select s.*, r.started_at as run_started_at
            from experiment_snapshots as s join runs as r using (run_id)
            where ? is null or s.experiment = ?
            order by s.metric_name, s.experiment, s.arm, s.run_id""", (experiment, experiment))
    if snapshots.is_empty():
        return snapshots.with_columns(pl.lit(None, pl.Boolean).alias("peeking"), pl.lit(None, pl.String).alias("peeking_dates"))
    flags = peeking_flags(snapshots)
    return snapshots.join(flags, on=["metric_name", "experiment"], how="left")


def peeking_flags(snapshots: pl.DataFrame) -> pl.DataFrame:
    """Per metric and experiment: `peeking` (significance came and went) and `peeking_dates`
    ("arm: significant <date>, not significant <later date>; ..." for each arm where it did).

    Parameters
    ----------
    snapshots : polars.DataFrame
        experiment_snapshots rows: metric_name, experiment, arm, is_control, run_id, built_at, p_holm.

    Examples
    --------
    >>> peeking_flags(snapshots).row(0, named=True)  # doctest: +SKIP
    {'metric_name': 'experiment', 'experiment': 'PriorityWeights', 'peeking': True,
     'peeking_dates': 'B: significant 2026-11-01T10:00:00+00:00, not significant 2026-11-08T10:00:00+00:00'}
    """
    notes: dict[tuple[str, str], list[str]] = {}
    keys = snapshots.select("metric_name", "experiment").unique(maintain_order=True)
    for metric_name, experiment_name in keys.iter_rows():
        notes[(metric_name, experiment_name)] = []
    arms = snapshots.filter(~pl.col("is_control").cast(pl.Boolean).fill_null(False)).sort("run_id")
    for (metric_name, experiment_name, arm), rows in arms.group_by(["metric_name", "experiment", "arm"],
                                                                   maintain_order=True):
        came = None
        for p_value, built_at in rows.select("p_holm", "built_at").iter_rows():
            significant = p_value is not None and p_value < SIGNIFICANCE_LEVEL
            if significant and came is None:
                came = built_at
            elif not significant and came is not None:
                notes[(metric_name, experiment_name)].append(f"{arm}: significant {came}, not significant {built_at}")
                break
    return pl.DataFrame(
        [(m, e, bool(n), "; ".join(n) or None) for (m, e), n in notes.items()],
        schema={"metric_name": pl.String, "experiment": pl.String, "peeking": pl.Boolean, "peeking_dates": pl.String},
        orient="row")
