"""The history file: where it is, its tables, and reading them as frames."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl

# One statement per table; `create ... if not exists` makes opening an old file add new tables.
_SCHEMA = (
    """create table if not exists config_versions (
        config_name text not null,
        version integer not null,
        content_hash text not null,
        toml text not null,
        created_at text not null,
        primary key (config_name, version),
        unique (config_name, content_hash)
    )""",
    """create table if not exists runs (
        run_id integer primary key autoincrement,
        command text not null,
        started_at text not null,
        ended_at text,
        status text not null,
        config_name text,
        config_version integer,
        files_new integer,
        files_skipped integer,
        files_replaced integer,
        rows_read integer,
        rows_kept integer,
        rows_rejected integer,
        rejected_reasons text,
        models_built integer,
        dbt_version text,
        valuemarts_version text,
        error text
    )""",
    """create table if not exists experiment_snapshots (
        run_id integer not null references runs (run_id),
        built_at text not null,
        config_version integer,
        metric_name text not null,
        experiment text not null,
        arm text not null,
        is_control integer,
        positives integer,
        negatives integer,
        count integer,
        units integer,
        ctr real,
        lift real,
        lift_ci_low real,
        lift_ci_high real,
        z_p_val real,
        p_holm real,
        p_bh real,
        srm_p_val real,
        srm_impressions_p_val real,
        primary key (run_id, metric_name, experiment, arm)
    )""",
    """create table if not exists verdicts (
        verdict_id integer primary key autoincrement,
        subject text not null,
        decision text not null,
        reason text not null,
        note text not null,
        decided_by text not null,
        decided_at text not null
    )""",
)


def history_path(warehouse: Path) -> Path:
    """The history file of `warehouse`: beside it, named after it."""
    return warehouse.with_name(warehouse.name + ".history.sqlite")


def connect_history(warehouse: Path) -> sqlite3.Connection:
    """The history of `warehouse`, created with its tables when missing.

    WAL journaling lets a viewer read while a build records its run; the busy timeout makes a
    second writer wait for the first instead of failing.
    """
    path = history_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.execute("pragma journal_mode = wal")
    con.execute("pragma foreign_keys = on")
    for statement in _SCHEMA:
        con.execute(statement)
    return con


def now() -> str:
    """The current UTC time as ISO 8601 to the second: what every history row records."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def frame(con: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
    """The result of `sql` as a polars frame, with its columns even when there are no rows."""
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    return pl.DataFrame([dict(zip(names, row)) for row in rows] if rows else {n: [] for n in names},
                        infer_schema_length=None)


@contextlib.contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken at once (`begin immediate`): two builds recording at the same
    time queue up instead of reading the same state and both writing."""
    con.execute("begin immediate")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


@contextlib.contextmanager
def opened_history(warehouse: Path) -> Iterator[sqlite3.Connection]:
    """The history of `warehouse` for one call, closed after it (sqlite3's own context manager
    commits but does not close)."""
    con = connect_history(warehouse)
    try:
        yield con
    finally:
        con.close()
