"""`valuemarts bench metrics`: build time and peak memory of the marts, and report latency at a
coarse and a fine grain (the report reads state only, never raw rows)."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from valuemarts.bench.measure import measure, write_result
from valuemarts.duck import connect
from valuemarts.reports.query import ReportRequest, load_metrics, report_sql

QUERIES = [
    ("engagement", []),
    ("engagement", ["Channel"]),
    ("engagement", ["Day", "Month", "Year", "Quarter", "Channel", "PlacementType", "PropensitySource", "Issue", "Group"]),
    ("conversion", ["Channel", "PlacementType"]),
    ("experiment", []),
    ("experiment", ["Year", "Channel", "PlacementType", "PropensitySource"]),
]


def run(rows: int, repeats: int = 5) -> Path:
    valuemarts = [sys.executable, "-m", "valuemarts.cli"]
    with tempfile.TemporaryDirectory(prefix="valuemarts-bench-") as tmp:
        out, warehouse = Path(tmp) / "demo", Path(tmp) / "warehouse.duckdb"
        measure([*valuemarts, "demo-data", "--out", str(out), "--rows", str(rows), "--ih-format", "parquet"])
        built = measure([*valuemarts, "build", "--warehouse", str(warehouse), "--config", str(out / "config.toml"),
                         "--ih", str(out / "ih"), "--holdings", str(out / "holdings")])
        table = [["build (load, stage, all marts)", "", round(built.seconds, 2), round(built.peak_mb), ""]]
        metrics = load_metrics(warehouse)
        con = connect(warehouse, read_only=True)
        try:
            for metric, by in QUERIES:
                sql = report_sql(metrics, ReportRequest(metric, by))
                timings, result_rows = [], 0
                for _ in range(repeats):
                    started = time.perf_counter()
                    result_rows = len(con.execute(sql).fetchall())
                    timings.append(time.perf_counter() - started)
                grain = ",".join(by) or "(all)"
                table.append([f"report {metric}", grain if len(grain) < 40 else f"{len(by)} columns",
                              round(statistics.median(timings) * 1000, 1), "", result_rows])
        finally:
            con.close()
    return write_result("metrics", ["step", "grain", "seconds_or_ms", "peak_mb", "result_rows"], table,
                        {"ih_rows": rows, "note": "build row: seconds; report rows: median milliseconds"})
