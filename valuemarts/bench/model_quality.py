"""Model quality and descriptive marts: build time, peak memory, and the t-digest AUC's error.

The exact score state (a count per rounded score) is the expensive part of these marts, so its
cost is measured on its own, apart from the rest of the build. The t-digest AUC/AP exist only
for comparison with the reference system; this measures how far they land from the exact values
at three grains of the same data.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from valuemarts.bench.measure import measure, write_result
from valuemarts.dbt_runner import dbt_target_dir
from valuemarts.duck import connect
from valuemarts.paths import compiled_dir, project_dir
from valuemarts.reports.query import ReportRequest, load_metrics, report_sql

MODELS = ["mart_model_ml_scores__state", "mart_model_ml_scores__action_state", "mart_descriptive__state",
          "mart_model_ml_scores", "mart_descriptive"]
METRIC = "model_ml_scores"
GRAINS = {"all data": [], "Channel x PlacementType": ["Channel", "PlacementType"]}
COLUMNS = ["rows", "what", "seconds", "peak_mb", "groups", "max_abs_error", "mean_abs_error"]


def run(rows_list: list[int]) -> Path:
    """Benchmark each size in `rows_list` on fresh demo data; one table, one JSON file."""
    table: list[list] = []
    with tempfile.TemporaryDirectory(prefix="valuemarts-bench-") as tmp:
        for rows in rows_list:
            table += _bench(rows, Path(tmp) / str(rows))
    return write_result("model_quality", COLUMNS, table, {"models": MODELS, "metric": METRIC})


def _bench(rows: int, root: Path) -> list[list]:
    valuemarts = [sys.executable, "-m", "valuemarts.cli"]
    data, warehouse = root / "demo", root / "warehouse.duckdb"
    measure([*valuemarts, "demo-data", "--out", str(data), "--rows", str(rows)])
    build = measure([*valuemarts, "build", "--warehouse", str(warehouse), "--config", str(data / "config.toml"),
                     "--ih", str(data / "ih"), "--holdings", str(data / "holdings")])
    marts = measure(_dbt_run(warehouse, MODELS))
    table = [
        [rows, "full build (all families)", round(build.seconds, 1), round(build.peak_mb), "", "", ""],
        [rows, "these 5 models (dbt run)", round(marts.seconds, 1), round(marts.peak_mb), "", "", ""],
    ]
    table += [[rows, f"  {name}", seconds, "", "", "", ""] for name, seconds in _model_seconds(warehouse)]
    table += _report_rows(rows, warehouse)
    return table


def _dbt_run(warehouse: Path, models: list[str]) -> list[str]:
    """`dbt run` of `models` on `warehouse` with its compiled vars, as `valuemarts build` runs dbt."""
    dbt = Path(sys.executable).parent / "dbt"
    target = dbt_target_dir(warehouse)
    return ["env", f"VALUEMARTS_WAREHOUSE={warehouse}", "DBT_SEND_ANONYMOUS_USAGE_STATS=false",
            str(dbt), "run", "--select", *models, "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir()),
            "--target-path", str(target), "--log-path", str(target / "logs"),
            "--vars", (compiled_dir(warehouse) / "vars.yml").read_text()]


def _model_seconds(warehouse: Path) -> list[tuple[str, float]]:
    results = json.loads((dbt_target_dir(warehouse) / "run_results.json").read_text())["results"]
    return [(r["unique_id"].rsplit(".", 1)[-1], round(r["execution_time"], 2)) for r in results]


def _report_rows(rows: int, warehouse: Path) -> list[list]:
    """Report latency, and |t-digest - exact| for AUC and AP per grain and property."""
    metrics = load_metrics(warehouse)
    group_by = metrics[METRIC]["group_by"]
    con = connect(warehouse, read_only=True)
    out = []
    try:
        for prop in ("Propensity", "FinalPropensity"):
            for grain, by in {**GRAINS, "mart grain (group_by)": group_by}.items():
                started = time.perf_counter()
                scores = con.execute(report_sql(metrics, ReportRequest(METRIC, by, None, prop))).pl()
                seconds = round(time.perf_counter() - started, 2)
                out.append([rows, f"report {prop}, {grain}", seconds, "", scores.height, "", ""])
                for exact, approximate in (("roc_auc", "roc_auc_tdigest"),
                                           ("average_precision", "average_precision_tdigest")):
                    out.append([rows, f"  |{approximate} - {exact}|", "", "", *_errors(scores, exact, approximate)])
    finally:
        con.close()
    return out


def _errors(scores: pl.DataFrame, exact: str, approximate: str) -> list:
    """Groups with both scores, and the max and mean absolute difference over them."""
    both = scores.filter(pl.col(exact).is_not_null() & pl.col(approximate).is_not_null())
    if both.height == 0:
        return [0, "", ""]
    difference = (both[approximate] - both[exact]).abs()
    return [both.height, round(difference.max(), 6), round(difference.mean(), 6)]
