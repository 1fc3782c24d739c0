"""`valuemarts bench ingest`: generation and staging throughput and peak memory."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from valuemarts.bench.measure import measure, write_result


def run(rows: int, ih_format: str = "zip") -> Path:
    valuemarts = [sys.executable, "-m", "valuemarts.cli"]
    with tempfile.TemporaryDirectory(prefix="valuemarts-bench-") as tmp:
        out, warehouse = Path(tmp) / "demo", Path(tmp) / "warehouse.duckdb"
        generate = measure([*valuemarts, "demo-data", "--out", str(out), "--rows", str(rows),
                            "--ih-format", ih_format])
        stage = measure([*valuemarts, "build", "--warehouse", str(warehouse), "--config", str(out / "config.toml"),
                         "--ih", str(out / "ih"), "--holdings", str(out / "holdings")])
        rerun = measure([*valuemarts, "build", "--warehouse", str(warehouse), "--config", str(out / "config.toml")])
    table = [
        ["generate", rows, round(generate.seconds, 2), round(rows / generate.seconds), round(generate.peak_mb)],
        ["stage (build)", rows, round(stage.seconds, 2), round(rows / stage.seconds), round(stage.peak_mb)],
        ["re-run, no new files", rows, round(rerun.seconds, 2), "", round(rerun.peak_mb)],
    ]
    return write_result("ingest", ["step", "rows", "seconds", "rows_per_s", "peak_mb"], table,
                        {"ih_format": ih_format})
