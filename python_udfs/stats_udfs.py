"""Distribution tails for the tests the marts compute in SQL (DuckDB has no CDFs).

Vectorised arrow UDFs: NULL, NaN or an undefined input gives NULL, so an undefined statistic
never turns into p = 0 ("highly significant") as in the reference. The normal tail needs only
the standard library's erfc, so an engagement or conversion report (a process of its own)
does not import scipy: about 0.2-0.3 s of its start. The chi-square tail imports scipy when an
experiment first calls it.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

_ARROW = {"type": "arrow", "null_handling": "special"}

_erfc = np.frompyfunc(math.erfc, 1, 1)


def _floats(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The DOUBLE argument as floats, NULL as NaN."""
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)


def _to_arrow(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.float64(), mask=~np.isfinite(values))


def norm_p_two_sided(z: pa.Array) -> pa.Array:
    """Two-sided p-value of a standard normal statistic: 2·Φ(−|z|) = erfc(|z|/√2)."""
    values = np.abs(_floats(z))
    out = np.full(values.shape, np.nan)
    known = ~np.isnan(values)  # an infinite statistic has p = 0, as 2·Φ(−∞)
    out[known] = _erfc(values[known] / math.sqrt(2.0)).astype(np.float64)
    return _to_arrow(out)


def chi2_sf(x: pa.Array, df: pa.Array) -> pa.Array:
    """Upper tail of the chi-square distribution, P(X ≥ x) with `df` degrees of freedom (df ≥ 1)."""
    from scipy import special  # only experiments need it: see the module docstring

    values, dof = _floats(x), _floats(df)
    out = np.full(values.shape, np.nan)
    valid = np.isfinite(values) & np.isfinite(dof) & (dof >= 1) & (values >= 0)
    out[valid] = special.chdtrc(dof[valid], values[valid])
    return _to_arrow(out)


UDFS = [
    ("vm_norm_p_two_sided", norm_p_two_sided, ["DOUBLE"], "DOUBLE", _ARROW),
    ("vm_chi2_sf", chi2_sf, ["DOUBLE", "DOUBLE"], "DOUBLE", _ARROW),
]
