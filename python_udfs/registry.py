"""The valuemarts UDFs by SQL signature, bound to a connection without importing their code.

Registering a UDF needs only its name, parameter and return types. The module that implements
it (and what that module imports: scipy, pyarrow.compute, ...) is imported on the UDF's first
call, so a connection that never calls `vm_chi2_sf` never pays for scipy, and opening a
connection stays cheap for every reader. Each implementing module keeps the functions in its
`UDFS` list of (name, function, params, return type, kwargs); the signatures below repeat its
types (tests check that they agree).
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable

import duckdb

_TDIGEST = "python_udfs.tdigest_udfs"
_STATS = "python_udfs.stats_udfs"
_RANKING = "python_udfs.ranking_udfs"

# Every UDF is a vectorised arrow function that handles NULL itself.
UDF_KWARGS = {"type": "arrow", "null_handling": "special"}

# name -> (implementing module, parameter types, return type)
SIGNATURES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "tdigest_build": (_TDIGEST, ("DOUBLE[]",), "BLOB"),
    "tdigest_merge": (_TDIGEST, ("BLOB[]",), "BLOB"),
    "tdigest_quantile": (_TDIGEST, ("BLOB", "DOUBLE"), "DOUBLE"),
    "tdigest_quantiles": (_TDIGEST, ("BLOB", "DOUBLE[]"), "DOUBLE[]"),
    "tdigest_cdf": (_TDIGEST, ("BLOB", "DOUBLE"), "DOUBLE"),
    "tdigest_cdfs": (_TDIGEST, ("BLOB", "DOUBLE[]"), "DOUBLE[]"),
    "tdigest_count": (_TDIGEST, ("BLOB",), "DOUBLE"),
    "tdigest_histogram": (_TDIGEST, ("BLOB", "INTEGER"), "STRUCT(lo DOUBLE, hi DOUBLE, mass DOUBLE)[]"),
    "vm_norm_p_two_sided": (_STATS, ("DOUBLE",), "DOUBLE"),
    "vm_chi2_sf": (_STATS, ("DOUBLE", "DOUBLE"), "DOUBLE"),
    "vm_ranking_scores": (_RANKING, ("STRUCT(score DOUBLE, positives BIGINT, negatives BIGINT)[]",),
                          "STRUCT(roc_auc DOUBLE, average_precision DOUBLE)"),
    "vm_ranking_scores_of_counts": (_RANKING, ("STRUCT(y INTEGER, score_counts MAP(DOUBLE, BIGINT))[]",),
                                    "STRUCT(roc_auc DOUBLE, average_precision DOUBLE)"),
}


def register_all(con: duckdb.DuckDBPyConnection) -> None:
    """Create every UDF `con` does not have yet.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> register_all(con); register_all(con)
    >>> con.execute("select tdigest_count(tdigest_build([1.0, 2.0]))").fetchone()
    (2.0,)
    """
    for name, (module, params, returns) in SIGNATURES.items():
        try:
            con.create_function(name, _imported_on_first_call(module, name, len(params)), list(params), returns,
                                **UDF_KWARGS)
        except (duckdb.NotImplementedException, duckdb.CatalogException) as exc:
            # Already there: created on this connection, or on another one sharing its database
            # (the Python client opens a file once per process).
            if "already" not in str(exc):
                raise


# Cached, so each UDF's function lives as long as the process: DuckDB holds no reference to it,
# and connections to one file share the functions the first of them registered, which may close
# before the others call them (a freed function crashed the process).
@functools.cache
def _imported_on_first_call(module: str, name: str, arity: int) -> Callable[..., object]:
    def call(*args: object) -> object:
        return implementation(module, name)(*args)

    # DuckDB checks the function's parameter count against the SQL signature.
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(arity)])
    call.__name__ = name
    return call


@functools.cache
def implementation(module: str, name: str) -> Callable[..., object]:
    """The function `module` registers as UDF `name` (its `UDFS` entry)."""
    for udf_name, function, *_ in importlib.import_module(module).UDFS:
        if udf_name == name:
            return function
    raise LookupError(f"{module} defines no UDF {name!r}")
