"""Distribution tails for the tests the marts compute in SQL (DuckDB has no CDFs).

Vectorised arrow UDFs over scipy.special: NULL, NaN or an undefined input gives NULL, so an
undefined statistic never turns into p = 0 ("highly significant") as in the reference.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import special

_ARROW = {"type": "arrow", "null_handling": "special"}


def _floats(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return pc.fill_null(pc.cast(array, pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def _to_arrow(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.float64(), mask=~np.isfinite(values))


def norm_p_two_sided(z: pa.Array) -> pa.Array:
    """Two-sided p-value of a standard normal statistic: 2·Φ(−|z|)."""
    values = _floats(z)
    return _to_arrow(2.0 * special.ndtr(-np.abs(values)))


def chi2_sf(x: pa.Array, df: pa.Array) -> pa.Array:
    """Upper tail of the chi-square distribution, P(X ≥ x) with `df` degrees of freedom (df ≥ 1)."""
    values, dof = _floats(x), _floats(df)
    out = np.full(values.shape, np.nan)
    valid = np.isfinite(values) & np.isfinite(dof) & (dof >= 1) & (values >= 0)
    out[valid] = special.chdtrc(dof[valid], values[valid])
    return _to_arrow(out)


UDFS = [
    ("vm_norm_p_two_sided", norm_p_two_sided, ["DOUBLE"], "DOUBLE", _ARROW),
    ("vm_chi2_sf", chi2_sf, ["DOUBLE", "DOUBLE"], "DOUBLE", _ARROW),
]
