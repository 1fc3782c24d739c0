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
from valuemarts.demo.ih import (DEFAULT_START, FILE_DAY, generate_ih, generate_ih_next_day, ih_by_day,
                                ih_day_chunks)
from valuemarts.demo.writers import HoldingsFormat, IhFormat, write_holdings, write_ih, write_ih_day, write_ih_days

__all__ = ["FILE_DAY", "DemoSummary", "append_ih_day", "demo_config_toml", "generate_holdings", "generate_ih",
           "generate_ih_next_day", "ih_by_day", "ih_day_chunks", "write_demo", "write_holdings", "write_ih",
           "write_ih_day", "write_ih_days"]


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
               holdings_format: HoldingsFormat = "zip", by_day: bool = False,
               customers: int | None = None) -> DemoSummary:
    """`out/ih/`, `out/holdings/` and `out/config.toml`; holdings cover the two years up to the IH end.

    `by_day` generates and writes IH one day at a time (`ih_day_chunks`), so memory holds one day
    whatever `rows` is; `customers` sets the number of holdings customers (default 20 000, about
    2.2 holdings each).
    """
    began = time.perf_counter()
    out = Path(out)
    config = demo_config_toml(ih_format, holdings_format)  # first: rejects unknown formats before any work
    if by_day:
        days_frames = ih_by_day(ih_day_chunks(rows, seed=seed, days=days, start=DEFAULT_START), DEFAULT_START)
        ih_paths = write_ih_days(days_frames, out / "ih", ih_format)
        ih_rows = rows
    else:
        ih = generate_ih(rows, seed=seed, days=days, start=DEFAULT_START)
        ih_paths, ih_rows = write_ih(ih, out / "ih", ih_format), ih.height
        del ih
    end = DEFAULT_START + timedelta(days=days)
    holdings = generate_holdings(seed=seed, customers=customers, start=end - HISTORY, end=end)
    holdings_paths = write_holdings(holdings, out / "holdings", holdings_format)
    config_path = out / "config.toml"
    config_path.write_text(config, encoding="utf-8")
    return DemoSummary(ih_paths, holdings_paths, config_path, ih_rows, holdings.height,
                       time.perf_counter() - began)


def append_ih_day(out: Path, rows: int, seed: int = 42, days: int = 90, ih_format: IhFormat = "zip") -> Path:
    """Add the IH file of the day after a `write_demo(out, rows, seed, days, by_day=True)` window to
    `out/ih/`, leaving every other file as it is: what a build then appends
    (`generate_ih_next_day`)."""
    return write_ih_day(generate_ih_next_day(rows, seed=seed, days=days, start=DEFAULT_START),
                        DEFAULT_START + timedelta(days=days), Path(out) / "ih", ih_format)
