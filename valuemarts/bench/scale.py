"""`valuemarts bench scale`: how a full build and the append of one day grow with the IH size.

For each size the IH is generated day by day (`demo-data --by-day`, daily parquet files, so the
generation itself fits in memory at 20M rows) with about 100 000 holdings; then a full
`valuemarts build` and, after the next day's file is added, the build that appends it. Each step
is its own process tree: wall seconds and the peak RSS of its largest process.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from valuemarts.bench.compare import DAYS, HOLDINGS_CUSTOMERS, valuemarts_command, valuemarts_commit, warehouse_files
from valuemarts.bench.measure import measure, write_result
from valuemarts.errors import ValueMartsError

SIZES = (1_000_000, 5_000_000, 20_000_000)
COLUMNS = ["ih_rows", "generate_s", "generate_peak_mb", "build_s", "build_peak_mb", "warehouse_mb", "side_files_mb",
           "append_s", "append_peak_mb", "append_pct_of_build", "error"]


def run(sizes: list[int], days: int = DAYS, customers: int = HOLDINGS_CUSTOMERS) -> Path:
    """Measure every size in its own temporary folder; one table, bench/results/scale.json. A size
    whose step fails gets a row with the error, and the larger sizes are still measured."""
    table = []
    for rows in sizes:
        try:
            table.append(_one_size(rows, days, customers))
        except ValueMartsError as exc:
            print(f"{rows} rows: {exc}", file=sys.stderr, flush=True)
            table.append([rows] + [None] * (len(COLUMNS) - 2) + [_reason(exc)])
    return write_result("scale", COLUMNS, table, {
        "days": days, "holdings_customers": customers, "ih_format": "parquet", "valuemarts_commit": valuemarts_commit(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "note": "peak_mb: peak RSS of the largest process of the step's tree; side_files_mb: what valuemarts "
                "writes beside the warehouse (compiled config, dbt target, CLV model cards); append: the build "
                "after one more day's file",
    })


def _reason(exc: ValueMartsError) -> str:
    """The step's last line naming an error (dbt's cause), else its last line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return next((line for line in reversed(lines) if "Error" in line), lines[-1] if lines else "")[:300]


def _one_size(rows: int, days: int, customers: int) -> list:
    with tempfile.TemporaryDirectory(prefix="valuemarts-scale-") as tmp:
        work = Path(tmp)
        data = work / "data"
        generate = ("demo-data", "--out", data, "--rows", rows, "--days", days, "--ih-format", "parquet")
        generated = measure(valuemarts_command(*generate, "--by-day", "--customers", customers,
                                               "--holdings-format", "parquet"))
        build_args = ("build", "--config", data / "config.toml", "--ih", data / "ih", "--holdings", data / "holdings",
                      "--warehouse", work / "warehouse.duckdb")
        build = measure(valuemarts_command(*build_args))
        files = warehouse_files(work)
        measure(valuemarts_command(*generate, "--append-day"))
        append = measure(valuemarts_command(*build_args))
    side = sum(size for name, size in files.items() if name != "warehouse.duckdb")
    row = [rows, round(generated.seconds, 1), round(generated.peak_mb), round(build.seconds, 1), round(build.peak_mb),
           round(files["warehouse.duckdb"] / 2**20), round(side / 2**20), round(append.seconds, 1),
           round(append.peak_mb), round(100 * append.seconds / build.seconds), None]
    print(f"{rows} rows: build {row[3]} s, append {row[7]} s", file=sys.stderr, flush=True)
    return row
