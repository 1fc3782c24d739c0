"""Deterministic, realistic demo data: Pega IH and Product Holdings exports and a config that fits them.

Generate once, write in any format: every format carries the same rows, so loads can be compared.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from valuemarts.demo.config import demo_config_toml
from valuemarts.demo.holdings import HISTORY, generate_holdings
from valuemarts.demo.ih import DEFAULT_START, FILE_DAY, generate_ih
from valuemarts.demo.writers import HoldingsFormat, IhFormat, write_holdings, write_ih

__all__ = ["FILE_DAY", "DemoSummary", "demo_config_toml", "generate_holdings", "generate_ih",
           "write_demo", "write_holdings", "write_ih"]


@dataclass(frozen=True)
class DemoSummary:
    """What `write_demo` wrote, for the CLI to report."""

    ih_paths: list[Path]
    holdings_paths: list[Path]
    config_path: Path
    ih_rows: int
    holdings_rows: int
    seconds: float

    def __str__(self) -> str:
        return (f"{self.ih_rows} IH rows in {len(self.ih_paths)} files, {self.holdings_rows} holdings in "
                f"{len(self.holdings_paths)} file(s), config {self.config_path} ({self.seconds:.1f} s)")


def write_demo(out: Path, rows: int = 100_000, seed: int = 42, days: int = 90, ih_format: IhFormat = "zip",
               holdings_format: HoldingsFormat = "zip") -> DemoSummary:
    """`out/ih/`, `out/holdings/` and `out/config.toml`; holdings cover the two years up to the IH end."""
    began = time.perf_counter()
    out = Path(out)
    config = demo_config_toml(ih_format, holdings_format)  # first: rejects unknown formats before any work
    ih = generate_ih(rows, seed=seed, days=days, start=DEFAULT_START)
    end = DEFAULT_START + timedelta(days=days)
    holdings = generate_holdings(seed=seed, start=end - HISTORY, end=end)
    ih_paths = write_ih(ih, out / "ih", ih_format)
    holdings_paths = write_holdings(holdings, out / "holdings", holdings_format)
    config_path = out / "config.toml"
    config_path.write_text(config, encoding="utf-8")
    return DemoSummary(ih_paths, holdings_paths, config_path, ih.height, holdings.height,
                       time.perf_counter() - began)
