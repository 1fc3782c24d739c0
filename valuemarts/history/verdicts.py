"""Verdicts: what a team decided about an experiment or a report, why, who and when."""

from __future__ import annotations

import getpass
from pathlib import Path

import polars as pl

from valuemarts.errors import ValueMartsError
from valuemarts.history.store import frame, now, opened_history, transaction

DECISIONS = ("accept", "reject", "more-data")
SUBJECT_KINDS = ("experiment", "report")
REASONS = ("significant", "not-significant", "sample-ratio-mismatch", "too-few-units", "business",
           "data-quality", "other")


def add_verdict(warehouse: Path, subject: str, decision: str, reason: str, note: str = "",
                decided_by: str | None = None) -> int:
    """Record a verdict and return its id.

    Parameters
    ----------
    subject : str
        ``experiment:NAME`` or ``report:NAME``.
    decision : str
        One of DECISIONS.
    reason : str
        One of REASONS: the category, with the detail in `note`.
    decided_by : str, optional
        Who decided (default: the user running the command).

    Raises
    ------
    ValueMartsError
        A subject, decision or reason outside the lists above.
    """
    kind, _, name = subject.partition(":")
    if kind not in SUBJECT_KINDS or not name.strip():
        raise ValueMartsError(f"--subject: expected experiment:NAME or report:NAME, got {subject!r}")
    if decision not in DECISIONS:
        raise ValueMartsError(f"--decision: expected one of {', '.join(DECISIONS)}, got {decision!r}")
    if reason not in REASONS:
        raise ValueMartsError(f"--reason: expected one of {', '.join(REASONS)}, got {reason!r}")
    with opened_history(warehouse) as con:
        with transaction(con):
            cursor = con.execute(
                "insert into verdicts (subject, decision, reason, note, decided_by, decided_at) values (?, ?, ?, ?, ?, ?)",
                (subject, decision, reason, note, decided_by or _user(), now()))
        return cursor.lastrowid


def verdicts(warehouse: Path, subject: str | None = None) -> pl.DataFrame:
    """Every verdict (on `subject` only, if given), oldest first."""
    with opened_history(warehouse) as con:
        return frame(con, "select * from verdicts where ? is null or subject = ? order by verdict_id",
                     (subject, subject))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a container
        return "unknown"
