"""SQL face of `python_udfs.tdigest`: digests as BLOBs, built and merged from lists, read per row.

DuckDB has no Python aggregates, so a digest is `tdigest_build(list(x))` per group and a merge is
`tdigest_merge(list(digest))`. Every UDF is an arrow function handed a whole chunk of rows: the
chunk's BLOBs are parsed straight from arrow's data buffer and offsets into one `Digests` batch,
read or merged in a few numpy passes, and written back as one binary array, with no Python object
per row. NULL in gives NULL out, and so do empty or all-NULL lists (never a phantom 0.0, spec
§10 item 18); a NULL (or NaN) element of a list of levels or points gives a NULL element.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from python_udfs.tdigest import Digests

_ARROW = {"type": "arrow", "null_handling": "special"}
_BIN = pa.struct([("lo", pa.float64()), ("hi", pa.float64()), ("mass", pa.float64())])


def _combined(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _digests(blobs: pa.Array | pa.ChunkedArray) -> Digests:
    """The chunk's BLOBs (NULL → None) parsed from the binary array's own buffers."""
    array = _combined(blobs)
    if not pa.types.is_large_binary(array.type):
        array = array.cast(pa.large_binary())  # one offsets width; the data buffer is reused
    _, offsets, data = array.buffers()
    return Digests.from_blobs(
        np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8),
        np.frombuffer(offsets, np.int64, len(array) + 1, 8 * array.offset),
        array.is_valid().to_numpy(zero_copy_only=False),
    )


def _blob_array(digests: Digests) -> pa.Array:
    """The digests as one arrow binary array, None as NULL, built from the serialised buffers."""
    data, offsets = digests.to_blobs()
    valid = np.packbits(digests.present, bitorder="little")
    return pa.Array.from_buffers(pa.large_binary(), len(digests), [pa.py_buffer(valid), pa.py_buffer(offsets),
                                                                   pa.py_buffer(data)])


def _numbers(array: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64 with NULL as NaN, which are not NULL)."""
    array = _combined(array)
    return (pc.fill_null(array.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False),
            array.is_valid().to_numpy(zero_copy_only=False))


# A batch reader: Digests.quantiles or Digests.cdfs, value i read from digest rows[i].
_Reader = Callable[[Digests, np.ndarray, np.ndarray], np.ndarray]


def _per_row(read: _Reader, blobs: pa.ChunkedArray, args: pa.ChunkedArray) -> pa.Array:
    """`read` at one value per row, for the whole chunk in one call; NULL digest or value → NULL."""
    digests = _digests(blobs)
    values, known = _numbers(args)
    valid = digests.present & known
    rows = np.flatnonzero(valid)
    out = np.zeros(len(values))
    out[rows] = read(digests, rows, values[rows])
    return pa.array(out, pa.float64(), mask=~valid)


def _per_element(read: _Reader, blobs: pa.ChunkedArray, lists: pa.ChunkedArray) -> pa.Array:
    """`read` at each element of the row's list, for the whole chunk in one call; NULL digest or
    list → NULL list, NULL or NaN element → NULL element."""
    digests = _digests(blobs)
    lists = _combined(lists)
    offsets = lists.offsets.to_numpy().astype(np.int64)
    values, _ = _numbers(lists.values.slice(offsets[0], offsets[-1] - offsets[0]))
    rows = np.repeat(np.arange(len(lists)), np.diff(offsets))
    valid = digests.present & lists.is_valid().to_numpy(zero_copy_only=False)
    use = valid[rows] & ~np.isnan(values)
    out = np.zeros(len(values))
    out[use] = read(digests, rows[use], values[use])
    return pa.ListArray.from_arrays(pa.array((offsets - offsets[0]).astype(np.int32)),
                                    pa.array(out, pa.float64(), mask=~use), mask=pa.array(~valid))


def tdigest_build(lists: pa.ChunkedArray) -> pa.Array:
    """One digest per list of doubles; NULL and NaN elements are ignored."""
    lists = _combined(lists)
    values = pc.fill_null(pc.list_flatten(lists), np.nan).to_numpy(zero_copy_only=False)
    groups = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    return _blob_array(Digests.build(values.astype(np.float64), groups, len(lists)))


def tdigest_merge(lists: pa.ChunkedArray) -> pa.Array:
    """One digest per list of digests; NULL elements are skipped."""
    lists = _combined(lists)
    groups = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    return _blob_array(_digests(pc.list_flatten(lists)).merge(groups, len(lists)))


def tdigest_quantile(blobs: pa.ChunkedArray, levels: pa.ChunkedArray) -> pa.Array:
    return _per_row(Digests.quantiles, blobs, levels)


def tdigest_quantiles(blobs: pa.ChunkedArray, levels: pa.ChunkedArray) -> pa.Array:
    return _per_element(Digests.quantiles, blobs, levels)


def tdigest_cdf(blobs: pa.ChunkedArray, points: pa.ChunkedArray) -> pa.Array:
    return _per_row(Digests.cdfs, blobs, points)


def tdigest_cdfs(blobs: pa.ChunkedArray, points: pa.ChunkedArray) -> pa.Array:
    """A whole curve per row (e.g. the 101 ROC thresholds) in one call, not one call per point."""
    return _per_element(Digests.cdfs, blobs, points)


def tdigest_count(blobs: pa.ChunkedArray) -> pa.Array:
    """Number of values digested."""
    digests = _digests(blobs)
    return pa.array(digests.counts(), pa.float64(), mask=~digests.present)


def tdigest_histogram(blobs: pa.ChunkedArray, bins: pa.ChunkedArray) -> pa.Array:
    """Equal-width bins (lo, hi, share of count) on [min, max], `bins` per row."""
    digests = _digests(blobs)
    counts, known = _numbers(bins)
    valid = digests.present & known
    rows = np.flatnonzero(valid)
    per_row = np.where(valid, counts, 0).astype(np.int64)
    edges, mass = digests.histograms(rows, per_row[rows])
    last = np.cumsum(per_row[rows] + 1) - 1  # each row's last edge: no bin starts there
    lo = np.delete(edges, last)
    hi = np.delete(edges, last - per_row[rows])
    structs = pa.StructArray.from_arrays([lo, hi, mass], fields=list(_BIN))
    offsets = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), structs, mask=pa.array(~valid))


UDFS = [
    ("tdigest_build", tdigest_build, ["DOUBLE[]"], "BLOB", _ARROW),
    ("tdigest_merge", tdigest_merge, ["BLOB[]"], "BLOB", _ARROW),
    ("tdigest_quantile", tdigest_quantile, ["BLOB", "DOUBLE"], "DOUBLE", _ARROW),
    ("tdigest_quantiles", tdigest_quantiles, ["BLOB", "DOUBLE[]"], "DOUBLE[]", _ARROW),
    ("tdigest_cdf", tdigest_cdf, ["BLOB", "DOUBLE"], "DOUBLE", _ARROW),
    ("tdigest_cdfs", tdigest_cdfs, ["BLOB", "DOUBLE[]"], "DOUBLE[]", _ARROW),
    ("tdigest_count", tdigest_count, ["BLOB"], "DOUBLE", _ARROW),
    ("tdigest_histogram", tdigest_histogram, ["BLOB", "INTEGER"], "STRUCT(lo DOUBLE, hi DOUBLE, mass DOUBLE)[]", _ARROW),
]
