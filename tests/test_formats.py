"""Every export format of the same demo data stages to identical rows."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.api_build import build
from valuemarts.demo import demo_config_toml, generate_holdings, generate_ih, write_holdings, write_ih
from valuemarts.duck import connect

pytestmark = pytest.mark.slow  # several builds each (tests/conftest.py runs slow files first)

LINEAGE = "_file_path, _file_group, _file_seq, _load_id, _row_in_file"
PAIRS = [("zip", "zip"), ("parquet", "parquet"), ("json", "csv"), ("json", "xlsx")]


def _staged(warehouse: Path, table: str, key: str, run_columns: str = "") -> pl.DataFrame:
    con = connect(warehouse, read_only=True)
    try:
        return con.execute(f"select * exclude ({LINEAGE}{run_columns}) from intermediate.{table} order by {key}").pl()
    finally:
        con.close()


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[tuple[str, str], Path]:
    ih = generate_ih(4_000, seed=3, days=4)
    holdings = generate_holdings(seed=3, customers=500)
    out = {}
    for ih_format, holdings_format in PAIRS:
        root = tmp_path_factory.mktemp(f"{ih_format}-{holdings_format}")
        write_ih(ih, root / "ih", ih_format)
        write_holdings(holdings, root / "holdings", holdings_format)
        (root / "config.toml").write_text(demo_config_toml(ih_format, holdings_format))
        build(root / "config.toml", root / "warehouse.duckdb", [str(root / "ih")], [str(root / "holdings")],
              log=lambda m: None)
        out[(ih_format, holdings_format)] = root / "warehouse.duckdb"
    return out


def test_ih_formats_stage_identically(builds):
    frames = {pair[0]: _staged(w, "int_ih__interactions", "_row_key", ", _built_by") for pair, w in builds.items()}
    reference = frames["zip"]
    assert reference.height > 3_900
    for fmt, frame in frames.items():
        assert sorted(frame.columns) == sorted(reference.columns), fmt
        assert frame.select(reference.columns).equals(reference), fmt


def test_holdings_formats_stage_identically(builds):
    frames = {pair[1]: _staged(w, "int_holdings__holdings", '"CustomerID", "HoldingID"') for pair, w in builds.items()}
    reference = frames["zip"]
    assert reference.height > 500
    for fmt, frame in frames.items():
        assert sorted(frame.columns) == sorted(reference.columns), fmt
        assert frame.select(reference.columns).equals(reference), fmt
