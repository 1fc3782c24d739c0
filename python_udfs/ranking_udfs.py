"""Exact ROC AUC and average precision of each group's score counts (the model-quality state).

Both need running sums over a group's scores in order. DuckDB's window operator made those most
of a model-quality build: one running sum over 4M score entries took 2.7 s, sorting them 0.3 s.
Here one vectorised pass does it: every group's entries are sorted by (group, score) once, and the
running sums are cumulative sums read relative to each group's start. Counts stay integers, so
the AUC is exact until its one division.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_ARROW = {"type": "arrow", "null_handling": "special"}
ENTRY_TYPE = "STRUCT(score DOUBLE, positives BIGINT, negatives BIGINT)[]"
RESULT_TYPE = "STRUCT(roc_auc DOUBLE, average_precision DOUBLE)"
_RESULT = pa.struct([("roc_auc", pa.float64()), ("average_precision", pa.float64())])


def ranking_scores(entries: pa.Array | pa.ChunkedArray) -> pa.StructArray:
    """ROC AUC and average precision per row, from a list of (score, positives, negatives).

    Each row is one group: its distinct scores with the positive and negative rows at each
    (any order). AUC is Mann-Whitney with ties counted 1/2:
    sum over scores of positives * (2 * negatives below + negatives) / (2 * P * N).
    Average precision is scikit-learn's: over scores from the highest, the recall step times the
    precision at or above the score. NULL for a group without positives or without negatives.

    Examples
    --------
    >>> rows = pa.array([[{"score": 0.9, "positives": 1, "negatives": 0},
    ...                   {"score": 0.1, "positives": 0, "negatives": 1}]])
    >>> ranking_scores(rows).to_pylist()
    [{'roc_auc': 1.0, 'average_precision': 1.0}]
    """
    lists = entries.combine_chunks() if isinstance(entries, pa.ChunkedArray) else entries
    offsets = lists.offsets.to_numpy().astype(np.int64)
    offsets -= offsets[0]
    flat = lists.flatten()
    lengths = np.diff(offsets)
    group = np.repeat(np.arange(len(lists)), lengths)
    score = flat.field("score").to_numpy(zero_copy_only=False)
    order = np.lexsort((score, group))   # groups stay where they are; scores ascend inside each
    positives = flat.field("positives").to_numpy(zero_copy_only=False).astype(np.int64)[order]
    negatives = flat.field("negatives").to_numpy(zero_copy_only=False).astype(np.int64)[order]

    total_positives, positives_below = _group_totals_and_below(positives, offsets)
    total_negatives, negatives_below = _group_totals_and_below(negatives, offsets)
    auc_terms = positives * (2 * negatives_below + negatives)
    auc_numerator = _group_sums(auc_terms, offsets)

    at_or_above = np.repeat(total_positives, lengths) - positives_below
    all_at_or_above = at_or_above + np.repeat(total_negatives, lengths) - negatives_below
    precision_steps = np.divide(positives * at_or_above, all_at_or_above, out=np.zeros(len(positives)),
                                where=all_at_or_above > 0)
    precision_sums = _group_float_sums(precision_steps, offsets)

    scored = (total_positives > 0) & (total_negatives > 0)
    if lists.null_count:
        scored &= ~lists.is_null().to_numpy(zero_copy_only=False)
    both = np.where(scored, total_positives * total_negatives, 1)
    roc_auc = np.where(scored, auc_numerator / (2.0 * both), np.nan)
    average_precision = np.where(scored, precision_sums / np.where(scored, total_positives, 1), np.nan)
    return pa.StructArray.from_arrays(
        [pa.array(roc_auc, pa.float64(), mask=~scored), pa.array(average_precision, pa.float64(), mask=~scored)],
        fields=list(_RESULT))


def _group_totals_and_below(counts: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group the sum of `counts`, and per entry the sum of the entries before it in its group."""
    running = _running_totals(counts)
    below = running[:-1] - np.repeat(running[offsets[:-1]], np.diff(offsets))
    return _group_sums(counts, offsets, running), below


def _running_totals(values: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(values)))


def _group_sums(values: np.ndarray, offsets: np.ndarray, running: np.ndarray | None = None) -> np.ndarray:
    """Exact per-group sums of integers (`running`: their running totals, when already known)."""
    running = _running_totals(values) if running is None else running
    return running[offsets[1:]] - running[offsets[:-1]]


def _group_float_sums(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-group sums of floats, each group added on its own (no difference of running totals,
    which would carry the rounding of every earlier group)."""
    sums = np.zeros(len(offsets) - 1)
    filled = np.flatnonzero(np.diff(offsets) > 0)
    if len(filled):
        sums[filled] = np.add.reduceat(values, offsets[filled])
    return sums


UDFS = [
    ("vm_ranking_scores", ranking_scores, [ENTRY_TYPE], RESULT_TYPE, _ARROW),
]
