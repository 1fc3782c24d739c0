"""Shared fixtures. Building a warehouse runs dbt (seconds), so metric tests share one demo build.

Tests read warehouses through the library API (`valuemarts.api.Warehouse`), as the CLI does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from valuemarts.api import Warehouse


@dataclass(frozen=True)
class DemoWarehouse:
    warehouse: Path
    config: Path
    data: Path

    def query(self, sql: str) -> list[tuple]:
        """Rows of a read-only query."""
        return self.frame(sql).rows()

    def frame(self, sql: str) -> pl.DataFrame:
        """A polars frame of a read-only query (for comparisons against references on raw rows)."""
        return Warehouse.open(self.warehouse).sql(sql)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked slow first: `make test` runs two workers a file at a time (pytest-xdist,
    --dist loadfile), so the long files start at once and the short ones fill in beside them,
    rather than one long file running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DemoWarehouse:
    """Demo data (40k IH rows over 30 days, zip exports; holdings csv) built with the demo config."""
    from valuemarts.demo import write_demo

    root = tmp_path_factory.mktemp("demo")
    write_demo(root / "data", rows=40_000, seed=7, days=30, ih_format="zip", holdings_format="csv")
    warehouse = root / "warehouse.duckdb"
    Warehouse(warehouse, read_only=False).build(root / "data" / "config.toml", ih=root / "data" / "ih",
                                               holdings=root / "data" / "holdings")
    return DemoWarehouse(warehouse=warehouse, config=root / "data" / "config.toml", data=root / "data")
