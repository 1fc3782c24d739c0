"""What every chart shares: optional config keys, facets, colours and sizes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import holoviews as hv
import pandas as pd
import polars as pl

NONE = "---"   # the reference config's "no column here"
WIDTH = 900
HEIGHT = 380
FACET_WIDTH = 440
FACET_HEIGHT = 260
# The reference's gauge colours: under the reference value, and under three quarters of it.
BELOW = "#EC9B00"
FAR_BELOW = "#EC5300"
ON_TARGET = "#2E7D32"
ACCENT = "#1F77B4"


def field(spec: Mapping[str, Any], key: str) -> str | None:
    """A config key that names a column, or None when absent or `---`."""
    value = spec.get(key)
    return None if value in (None, "", NONE) else str(value)


def flag(spec: Mapping[str, Any], key: str, default: bool = False) -> bool:
    """A bool-like config key ("true", "False", 1, ...), as the reference reads them."""
    value = spec.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"y", "yes", "t", "true", "on", "1"}


def pandas(frame: pl.DataFrame) -> pd.DataFrame:
    """HoloViews draws pandas frames; dates stay dates."""
    return frame.to_pandas()


def facets(frame: pl.DataFrame, spec: Mapping[str, Any], draw: Callable[[pl.DataFrame], hv.Element],
           **opts: Any) -> hv.Element:
    """`draw` on the whole frame, or one panel per value of facet_row x facet_column.

    The reference lays facets out as a grid of rows and columns; a layout with one panel per
    combination, as many per line as there are column values, reads the same.
    """
    keys = [k for k in (field(spec, "facet_row"), field(spec, "facet_column")) if k and k in frame.columns]
    if not keys:
        return draw(frame).opts(width=WIDTH, height=HEIGHT, **opts)
    panels = {}
    for values, part in frame.sort(keys).group_by(keys, maintain_order=True):
        label = values if len(keys) > 1 else values[0]
        panels[label] = draw(part).opts(width=FACET_WIDTH, height=FACET_HEIGHT, **opts)
    per_line = frame[keys[-1]].n_unique() if len(keys) > 1 else min(len(panels), 2)
    return hv.NdLayout(panels, kdims=keys).cols(max(per_line, 1))


def labels(frame: pl.DataFrame, columns: list[str], name: str = "label") -> pl.DataFrame:
    """The frame with one text column joining `columns` (a category per group)."""
    return frame.with_columns(pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in columns],
                                            separator=" · ").alias(name))


def scaled(values: pl.Series, low: float = 6.0, high: float = 30.0) -> pl.Series:
    """Marker sizes from `low` to `high` in proportion to values (all `low` when they are equal)."""
    filled = values.cast(pl.Float64).fill_null(0.0).fill_nan(0.0)
    span = filled.max() - filled.min()
    if not span:
        return pl.Series([low] * len(values))
    return low + (filled - filled.min()) / span * (high - low)
