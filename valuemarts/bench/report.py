"""`valuemarts bench report`: how long a report takes, as a process (a user typing `valuemarts
report`, a script calling it) and in-process (a `Warehouse.report` call from a notebook or the
viewer), on a freshly built demo warehouse.

Each figure is the median of `repeats` runs. The in-process calls run in a fresh interpreter, so
its first call pays what a new process pays (imports, UDF code) and is reported beside the median.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from valuemarts.bench.measure import measure, write_result

QUERIES = [("engagement", []), ("engagement", ["Channel"]), ("experiment", [])]
COLUMNS = ["metric", "grain", "process_ms", "in_process_first_ms", "in_process_ms", "result_rows"]


def run(rows: int, repeats: int = 5) -> Path:
    """Build a demo warehouse of `rows` IH rows, time each query of QUERIES; one table, one JSON file."""
    python = [sys.executable, "-m", "valuemarts.cli"]
    with tempfile.TemporaryDirectory(prefix="valuemarts-bench-") as tmp:
        data, warehouse = Path(tmp) / "demo", Path(tmp) / "warehouse.duckdb"
        measure([*python, "demo-data", "--out", str(data), "--rows", str(rows)])
        measure([*python, "build", "--warehouse", str(warehouse), "--config", str(data / "config.toml"),
                 "--ih", str(data / "ih"), "--holdings", str(data / "holdings")])
        table = []
        for metric, by in QUERIES:
            process = _process_seconds(warehouse, metric, by, repeats)
            calls = _in_process(warehouse, metric, by, repeats)
            table.append([metric, ",".join(by) or "(all)", _ms(statistics.median(process)), _ms(calls["seconds"][0]),
                          _ms(statistics.median(calls["seconds"])), calls["rows"]])
    return write_result("report", COLUMNS, table, {
        "ih_rows": rows, "repeats": repeats, "load_average_1min": round(os.getloadavg()[0], 2),
        "note": "process_ms: wall time of `valuemarts report` (median); in_process_ms: Warehouse.report "
                "(median; first call in a fresh interpreter beside it)"})


def _process_seconds(warehouse: Path, metric: str, by: list[str], repeats: int) -> list[float]:
    """Wall times of the `valuemarts report` console command, as users run it."""
    command = [str(Path(sys.executable).parent / "valuemarts"), "report", metric, "--warehouse", str(warehouse),
               *(["--by", ",".join(by)] if by else [])]
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.perf_counter() - started)
    return seconds


def _in_process(warehouse: Path, metric: str, by: list[str], repeats: int) -> dict:
    done = subprocess.run([sys.executable, "-m", "valuemarts.bench.report", str(warehouse), metric, str(repeats), *by],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def _api_calls(warehouse: Path, metric: str, by: list[str], repeats: int) -> dict:
    """Times of `repeats` Warehouse.report calls; the first includes importing the API."""
    seconds, rows = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        from valuemarts.api import Warehouse

        rows = Warehouse.open(warehouse).report(metric, by).height
        seconds.append(time.perf_counter() - started)
    return {"seconds": seconds, "rows": rows}


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


if __name__ == "__main__":
    # In-process mode: python -m valuemarts.bench.report WAREHOUSE METRIC REPEATS [BY ...]
    print(json.dumps(_api_calls(Path(sys.argv[1]), sys.argv[2], sys.argv[4:], int(sys.argv[3]))))
