"""The run ledger: one row per build or load, failed and stopped runs included."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from valuemarts.history.store import connect_history, frame, now, opened_history

if TYPE_CHECKING:
    from valuemarts.build import BuildSummary

REJECTED_REASON = "global filter or duplicates"


@dataclass
class Run:
    """A run being recorded: what the build fills in as it learns it."""

    run_id: int
    con: sqlite3.Connection
    config_name: str | None = None
    config_version: int | None = None
    summary: BuildSummary | None = None


@contextlib.contextmanager
def recorded_run(warehouse: Path, command: str) -> Iterator[Run]:
    """Record a run of `command` ('build' or 'load') on `warehouse` from start to end.

    The row is written when the run starts (status 'running', so a killed run stays visible)
    and completed when it ends: 'ok', 'failed' with the error, or 'stopped' by a signal. The
    exception, if any, goes on to the caller.

    Examples
    --------
    >>> with recorded_run(Path("data/warehouse.duckdb"), "build") as run:  # doctest: +SKIP
    ...     run.summary = build_it()
    """
    con = connect_history(warehouse)
    cursor = con.execute("insert into runs (command, started_at, status, dbt_version, valuemarts_version) "
                         "values (?, ?, 'running', ?, ?)", (command, now(), _version("dbt-core"), _version("valuemarts")))
    run = Run(run_id=cursor.lastrowid, con=con)
    try:
        yield run
    except BaseException as exc:
        status = "failed" if isinstance(exc, Exception) else "stopped"
        _finish(run, status, str(exc) or type(exc).__name__)
        raise
    else:
        _finish(run, "ok", None)
    finally:
        con.close()


def _finish(run: Run, status: str, error: str | None) -> None:
    summary = run.summary
    values = {"ended_at": now(), "status": status, "error": error, "config_name": run.config_name,
              "config_version": run.config_version}
    if summary is not None:
        rejected = summary.rows_read - summary.rows_kept if summary.rows_kept is not None else None
        values |= {"files_new": summary.count("new"), "files_skipped": summary.count("skipped"),
                   "files_replaced": summary.count("replaced"), "rows_read": summary.rows_read,
                   "rows_kept": summary.rows_kept, "rows_rejected": rejected,
                   "rejected_reasons": REJECTED_REASON if rejected else None, "models_built": summary.models_built}
    assignments = ", ".join(f"{name} = ?" for name in values)
    run.con.execute(f"update runs set {assignments} where run_id = ?", (*values.values(), run.run_id))


def runs(warehouse: Path, limit: int | None = None) -> pl.DataFrame:
    """The ledger, newest run first (all runs, or the last `limit`)."""
    with opened_history(warehouse) as con:
        return frame(con, "select * from runs order by run_id desc" + (" limit ?" if limit else ""),
                     (limit,) if limit else ())


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
