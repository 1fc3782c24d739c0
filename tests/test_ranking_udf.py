"""vm_ranking_scores against scikit-learn on raw rows: groups of scores with ties, one-class and
empty groups, and rows given in any order."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

import python_udfs


def score_counts(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw labelled rows with scores rounded to 2 digits, so many rows share a score."""
    y = rng.integers(0, 2, rows)
    scores = np.round(np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1), 2)
    return scores, y


def assert_equal_scikit_learn(result: dict, groups: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
    """Each group's scores equal scikit-learn's on its raw rows (NULL for a one-class group)."""
    for g, (scores, y) in groups.items():
        got = result[g]
        if y.min() == y.max():
            assert got == {"roc_auc": None, "average_precision": None}
            continue
        assert got["roc_auc"] == pytest.approx(roc_auc_score(y, scores), rel=1e-12, abs=1e-15)
        assert got["average_precision"] == pytest.approx(average_precision_score(y, scores), rel=1e-12, abs=1e-15)


def test_ranking_scores_equal_scikit_learn_per_group():
    rng = np.random.default_rng(7)
    con = python_udfs.register(duckdb.connect())
    groups = {g: score_counts(rng, int(rng.integers(2, 400))) for g in range(40)}
    groups[40] = (np.array([0.3, 0.5]), np.array([1, 1]))   # positives only: undefined
    rows = [(g, float(s), int(label)) for g, (scores, y) in groups.items() for s, label in zip(scores, y)]
    rng.shuffle(rows)   # the UDF must not depend on the order rows arrive in
    con.execute("create table raw (grp integer, score double, y integer)")
    con.executemany("insert into raw values (?, ?, ?)", rows)
    con.execute("insert into raw values (41, null, null)")   # a group with no entries at all
    result = dict(con.execute("""
        with counts as (
            select grp, score, count(*) filter (where y = 1) as positives, count(*) filter (where y = 0) as negatives
            from raw where score is not null group by grp, score
        ),
        groups as (select distinct grp from raw)
        select groups.grp, vm_ranking_scores(list({'score': score, 'positives': positives, 'negatives': negatives})
                                             filter (where score is not null))
        from groups left join counts using (grp)
        group by groups.grp
    """).fetchall())

    assert_equal_scikit_learn(result, groups)
    assert result[41] == {"roc_auc": None, "average_precision": None}


def test_ranking_scores_of_counts_equal_scikit_learn_from_split_state_rows():
    """Each group's rows are split over several state rows per class (as cells merged into a
    coarser group are), so equal scores arrive in several maps and must be summed."""
    rng = np.random.default_rng(11)
    con = python_udfs.register(duckdb.connect())
    groups = {g: score_counts(rng, int(rng.integers(2, 400))) for g in range(30)}
    groups[30] = (np.array([0.3, 0.5]), np.array([0, 0]))   # negatives only: undefined
    rows = [(g, int(rng.integers(0, 3)), float(s), int(label))
            for g, (scores, y) in groups.items() for s, label in zip(scores, y)]
    con.execute("create table raw (grp integer, cell integer, score double, y integer)")
    con.executemany("insert into raw values (?, ?, ?, ?)", rows)
    state = """
        with state_rows as (
            select grp, cell, y, histogram(score) as score_counts from raw group by grp, cell, y
        )
        select grp, vm_ranking_scores_of_counts(list({'y': y, 'score_counts': score_counts})) from state_rows group by grp
    """
    result = dict(con.execute(state).fetchall())
    assert_equal_scikit_learn(result, groups)
