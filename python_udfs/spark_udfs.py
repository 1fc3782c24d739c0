"""The valuemarts UDFs on a Spark session: the same names and the same arrow functions as on
DuckDB (python_udfs.registry), as Spark arrow UDFs.

Spark hands an arrow UDF a batch of rows as pyarrow arrays, as DuckDB does, so the t-digest,
p-value and ranking functions run unchanged; only their results are cast to the arrow types Spark
expects (32-bit offsets). Spark's aggregates have no list() feeding a Python function per group:
the models call these on `collect_list(...)` (macros dispatch `vm_list`). One function exists
for Spark only: `vm_value_counts`, the count of each value of a list, which stands in for DuckDB's
`histogram()` aggregate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from python_udfs import registry

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# name -> Spark return type, beside registry.SIGNATURES' DuckDB types. vm_ranking_scores_of_counts is
# DuckDB's only: on Spark the model-quality scores unnest their maps in SQL for vm_ranking_scores.
SPARK_RETURN_TYPES: dict[str, str] = {
    "tdigest_build": "binary",
    "tdigest_merge": "binary",
    "tdigest_quantile": "double",
    "tdigest_quantiles": "array<double>",
    "tdigest_cdf": "double",
    "tdigest_cdfs": "array<double>",
    "tdigest_count": "double",
    "tdigest_histogram": "array<struct<lo: double, hi: double, mass: double>>",
    "vm_norm_p_two_sided": "double",
    "vm_chi2_sf": "double",
    "vm_ranking_scores": "struct<roc_auc: double, average_precision: double>",
    "vm_value_counts": "map<double, bigint>",
}


def value_counts(lists: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Per list of doubles, each distinct non-null value with its count (a map), as DuckDB's
    `histogram()`; NULL for a NULL list or one without a non-null value (a group without values).

    Examples
    --------
    >>> value_counts(pa.array([[0.5, 0.5, 0.25], None])).to_pylist()
    [[(0.25, 1), (0.5, 2)], None]
    >>> value_counts(pa.array([[], [float('nan')]])).to_pylist()
    [None, None]
    """
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    offsets = lists.offsets.to_numpy().astype(np.int64)
    values = lists.values.slice(offsets[0], offsets[-1] - offsets[0]).to_numpy(zero_copy_only=False)
    rows = np.repeat(np.arange(len(lists)), np.diff(offsets))
    known = ~np.isnan(values)
    cells = np.stack([rows[known].astype(np.float64), values[known]])
    keys, counts = np.unique(cells, axis=1, return_counts=True) if known.any() else (cells, np.empty(0, np.int64))
    per_row = np.bincount(keys[0].astype(np.int64), minlength=len(lists))
    map_offsets = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int32)
    return pa.MapArray.from_arrays(pa.array(map_offsets), pa.array(keys[1], pa.float64()),
                                   pa.array(counts.astype(np.int64)), mask=pa.array(per_row == 0))


def register(spark: SparkSession) -> None:
    """Register every valuemarts UDF on `spark` for SQL, under its DuckDB name.

    Examples
    --------
    >>> register(spark)  # doctest: +SKIP
    >>> spark.sql("select vm_norm_p_two_sided(1.96)").first()[0]  # doctest: +SKIP
    0.04999579029644097
    """
    from pyspark.sql.functions import ArrowUDFType, arrow_udf
    from pyspark.sql.pandas.types import to_arrow_type
    from pyspark.sql.types import _parse_datatype_string

    for name, returns in SPARK_RETURN_TYPES.items():
        return_type = _parse_datatype_string(returns)
        function = _with_result_type(_implementation(name), to_arrow_type(return_type))
        spark.udf.register(name, arrow_udf(function, return_type, ArrowUDFType.SCALAR))


def _implementation(name: str) -> Callable[..., pa.Array]:
    if name == "vm_value_counts":
        return value_counts
    module, _, _ = registry.SIGNATURES[name]
    return lambda *args: registry.implementation(module, name)(*args)


def _with_result_type(function: Callable[..., pa.Array], arrow_type: pa.DataType) -> Callable[..., pa.Array]:
    """`function` with its result cast to `arrow_type` (the DuckDB functions write 64-bit offsets)."""

    def call(*args: pa.Array) -> pa.Array:
        result = function(*args)
        return result if result.type == arrow_type else result.cast(arrow_type)

    return call
