"""Shared fixtures. Building a warehouse runs dbt (seconds), so metric tests share one demo build."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from valuemarts.build import build
from valuemarts.duck import connect


@dataclass(frozen=True)
class DemoWarehouse:
    warehouse: Path
    config: Path
    data: Path

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = connect(self.warehouse, read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def frame(self, sql: str):
        """A polars frame of a query (for comparisons against references on raw rows)."""
        con = connect(self.warehouse, read_only=True)
        try:
            return con.execute(sql).pl()
        finally:
            con.close()


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> DemoWarehouse:
    """Demo data (40k IH rows over 30 days, zip exports; holdings csv) built with the demo config."""
    from valuemarts.demo import write_demo

    root = tmp_path_factory.mktemp("demo")
    write_demo(root / "data", rows=40_000, seed=7, days=30, ih_format="zip", holdings_format="csv")
    warehouse = root / "warehouse.duckdb"
    build(root / "data" / "config.toml", warehouse, [str(root / "data" / "ih")],
          [str(root / "data" / "holdings")], log=lambda m: None)
    return DemoWarehouse(warehouse=warehouse, config=root / "data" / "config.toml", data=root / "data")
