"""The tests build warehouses through the library API, as users and the CLI do; this keeps the
positional call the tests were written with."""

from __future__ import annotations

from pathlib import Path

from valuemarts.api import Warehouse
from valuemarts.build import BuildSummary


def build(config: Path, warehouse: Path, ih_paths: list[str] | None = None, holdings_paths: list[str] | None = None,
          full_refresh: bool = False, **kwargs) -> BuildSummary:
    """`Warehouse(warehouse, read_only=False).build(...)` with positional paths."""
    return Warehouse(warehouse, read_only=False).build(config, ih=ih_paths, holdings=holdings_paths,
                                                       full_refresh=full_refresh, **kwargs)
