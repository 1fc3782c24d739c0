"""`valuemarts bench compare --rows N`: the reference system and valuemarts on the same files, side by side.

One run generates N IH rows day by day (daily parquet files) and about 100 000 holdings, then
measures, each as its own process tree (wall seconds, peak RSS of the largest process):

- the reference (`cdhdashboard`, in its own environment, see valuemarts.bench.reference_env)
  computing its full metric set, the data of every configured report and its CLV path
  (valuemarts.bench.reference_pipeline);
- `valuemarts build` (full), then every configured report valuemarts can answer as a
  `valuemarts report METRIC --by ...` process, with the grouping the reference's page would use;
  the same calls in one interpreter through `Warehouse.report` are timed beside them;
- appending one day: the next day's file added, `valuemarts build` again.

Then it compares the shared metrics (agreement table): counts, CTR and conversion rate should
agree exactly, AUC and percentiles within the reference's own approximation error; where they
don't, the row names the reference weakness (metrics-spec section 10) the difference comes from.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from valuemarts.bench.measure import Measurement, measure, write_result
from valuemarts.bench.reference_env import PIPELINE, REQUIREMENTS, ensure_reference_env
from valuemarts.bench.reference_pipeline import unique_columns, report_grouping
from valuemarts.bench.reference_replay import replay
from valuemarts.tables import write_rows

DAYS = 90
HOLDINGS_CUSTOMERS = 46_500  # about 2.15 holdings each: ~100 000 holdings
EXACT = 1e-9  # relative tolerance of "exact"
COLUMNS = ["step", "seconds", "peak_mb", "vs_reference"]
REPLAYED = ("engagement", "conversion", "model_ml_scores", "descriptive")  # families reference_replay covers
AGREEMENT_COLUMNS = ["metric", "grouping", "column", "rows", "max_abs_diff", "verdict", "explanation"]

W4 = "weakness 4: positive-wins keeps every row of the winning class, so Impression + Pending of one offer are 2 negatives"
W6 = "weakness 6: dedup per file group, so a row re-exported in the next day's file is counted twice"
W7_ENG = "weakness 7: state cells without negatives are dropped before scoring"
W7_CONV = "weakness 7: conversion cells without negatives are dropped at compaction"
W7_ML = "weakness 7: per day, every (G9 + global filters) cell without a positive is dropped"
W1 = "weakness 1: t-digest AUC/AP on a 0.01 threshold grid"
TDIGEST = "t-digest quantiles are approximate (tolerance 1e-3 of the value range)"
W5 = "weakness 5: frequency = distinct holdings - 1, not repeat purchase periods"


@dataclass(frozen=True)
class Check:
    """One compared column: valuemarts' name, the reference's, and what explains a difference.

    `tolerance` is an expression over the joined row (valuemarts' columns unprefixed, the
    reference's prefixed `ref_`); None means exact (EXACT, relative).
    """

    column: str
    reference: str
    explanation: str
    tolerance: pl.Expr | None = None


@dataclass(frozen=True)
class Comparison:
    """A report asked of both systems (`prop`: its --property) and the columns compared; `keys`
    join the two (default `by`)."""

    name: str
    metric: str
    by: tuple[str, ...]
    checks: tuple[Check, ...]
    prop: str | None = None
    keys: tuple[str, ...] = field(default=())

    @property
    def join_keys(self) -> list[str]:
        return list(self.keys or self.by)


def _counts(explanation: str, rate: str) -> tuple[Check, ...]:
    return tuple(Check(c, c, explanation) for c in ("Count", "Positives", "Negatives", rate))


def _auc_error(exact: str, tdigest: str) -> pl.Expr:
    """The reference method's own error on these rows: valuemarts' t-digest column against its exact one."""
    return (pl.col(tdigest) - pl.col(exact)).abs()


COMPARISONS = (
    Comparison("engagement_channel_placement", "engagement", ("Channel", "PlacementType"),
               _counts(f"{W4}; {W6}; {W7_ENG}", "CTR")),
    Comparison("engagement_day", "engagement", ("Day",), _counts(f"{W4}; {W6}; {W7_ENG}", "CTR")),
    Comparison("conversion_channel", "conversion", ("Channel",),
               _counts(f"{W4}; {W6}; {W7_CONV}", "ConversionRate")
               + (Check("Revenue", "Revenue", f"{W4}; {W6}; {W7_CONV}"),)),
    Comparison("model_ml_scores_channel", "model_ml_scores", ("Channel",), (
        Check("Count", "Count", f"{W7_ML}; {W4}; {W6}"),
        Check("roc_auc", "roc_auc", f"{W1}; rows differ by {W7_ML}", _auc_error("roc_auc", "roc_auc_tdigest")),
        Check("roc_auc_tdigest", "roc_auc", f"same t-digest method, rows differ by {W7_ML}",
              _auc_error("roc_auc", "roc_auc_tdigest")),
        Check("average_precision_tdigest", "average_precision", f"same t-digest method, rows differ by {W7_ML}",
              _auc_error("average_precision", "average_precision_tdigest")),
    ), prop="Propensity"),
    Comparison("descriptive_channel", "descriptive", ("Channel",), tuple(
        Check(c, c, W6) for c in ("Propensity_Count", "Propensity_Mean")
    ) + tuple(
        Check(c, c, f"{TDIGEST}; {W6}", 1e-3 * (pl.col("Propensity_Max") - pl.col("Propensity_Min")))
        for c in ("Propensity_Median", "Propensity_p25", "Propensity_p90")
    ), prop="Propensity"),
    Comparison("clv_customers", "clv", ("ControlGroup",), (Check("frequency", "frequency", W5),),
               keys=("ControlGroup", "CustomerID")),
)


def run(rows: int, days: int = DAYS, customers: int = HOLDINGS_CUSTOMERS) -> Path:
    """Generate, run both systems, measure the append, compare; one table each, one JSON file."""
    reference_python = ensure_reference_env()
    with tempfile.TemporaryDirectory(prefix="valuemarts-compare-") as tmp:
        work = Path(tmp)
        data, warehouse = work / "data", work / "warehouse.duckdb"
        generated = measure(valuemarts_command("demo-data", "--out", data, "--rows", rows, "--days", days, "--by-day",
                                        "--customers", customers, "--ih-format", "parquet",
                                        "--holdings-format", "parquet"))
        reference = _run_reference(reference_python, data, work / "reference")
        build_args = ("--config", data / "config.toml", "--ih", data / "ih", "--holdings", data / "holdings",
                      "--warehouse", warehouse)
        build = measure(valuemarts_command("build", *build_args))
        calls = report_calls(_specs(work))
        reports, in_process = _run_reports(calls, warehouse, work)
        agreement = compare_all(warehouse, work / "reference", data / "ih", _specs(work))
        measure(valuemarts_command("demo-data", "--out", data, "--rows", rows, "--days", days, "--ih-format", "parquet",
                            "--append-day"))
        append = measure(valuemarts_command("build", *build_args))
        files = warehouse_files(work)
    table = timing_table(reference["measurement"], build, reports, append)
    out = write_result(f"compare_{rows}", COLUMNS, table, {
        "ih_rows": rows, "days": days, "holdings_customers": customers,
        "generation": {"seconds": round(generated.seconds, 1), "peak_mb": round(generated.peak_mb)},
        "reference": {"requirements": list(REQUIREMENTS), "phases_seconds": reference["seconds"],
                      "reports": reference["reports"], "quirks": reference["quirks"],
                      "state_rows": reference["state_rows"]},
        "valuemarts_reports": {"calls": len(calls["run"]), "failed": reports["failed"],
                               "skipped": calls["skipped"], "in_process_seconds": in_process,
                               "commands": [c["command"] for c in calls["run"]]},
        "warehouse_bytes": files,
        "agreement": [dict(zip(AGREEMENT_COLUMNS, r)) for r in agreement],
        "load_average_1min": round(os.getloadavg()[0], 2),
        "note": "peak_mb: peak RSS of the largest process of the step's tree; valuemarts total = build + "
                "report calls (seconds summed, peak the larger)",
    })
    print(f"\nagreement of the shared metrics ({rows} IH rows)")
    write_rows(AGREEMENT_COLUMNS, agreement, "table")
    return out


def _specs(work: Path) -> dict[str, Any]:
    """The compiled report specs the build wrote beside the warehouse."""
    return json.loads((work / "compiled" / "report_specs.json").read_text())


def valuemarts_command(*args: Any) -> list[str]:
    return [sys.executable, "-m", "valuemarts.cli", *(str(a) for a in args)]


def _run_reference(python: Path, data: Path, workdir: Path) -> dict[str, Any]:
    """The reference pipeline measured as one process; its result file with the measurement."""
    workdir.mkdir(parents=True)
    request = workdir / "request.json"
    request.write_text(json.dumps({
        "config": str(data / "config.toml"), "ih": str(data / "ih"), "holdings": str(data / "holdings"),
        "workdir": str(workdir),
        "comparisons": [{"name": c.name, "metric": c.metric, "by": list(c.by), "property": c.prop}
                        for c in COMPARISONS],
    }))
    measurement = measure([str(python), str(PIPELINE), str(request)])
    return json.loads((workdir / "result.json").read_text()) | {"measurement": measurement}


def report_calls(specs: dict[str, Any]) -> dict[str, list]:
    """The `valuemarts report` call of every configured report valuemarts can answer.

    Each report gets the grouping the reference's page would compute it at (`report_grouping`),
    and the property its plot reads (descriptive: the described column; model_ml_scores: the
    score column). A report is skipped, with the reason, when its metric isn't configured or its
    grouping isn't within the metric's grouping columns.
    """
    metrics = specs["metrics"]
    run, skipped = [], []
    for name, params in specs.get("reports", {}).items():
        metric = metrics.get(params["metric"])
        if metric is None:
            skipped.append({"report": name, "reason": f"metric {params['metric']!r} not configured"})
            continue
        by = report_grouping(params, list(metric.get("group_by") or []))
        allowed = {c["name"] for c in metric["group_columns"]}
        outside = [c for c in by if c not in allowed]
        if outside:
            skipped.append({"report": name, "reason": f"grouping {', '.join(outside)} not in the metric's"})
            continue
        command = ["report", params["metric"], *(["--by", ",".join(by)] if by else [])]
        prop = _report_property(metric["family"], params)
        run.append({"report": name, "metric": params["metric"], "by": by, "property": prop,
                    "command": command + (["--property", prop] if prop else [])})
    return {"run": run, "skipped": skipped}


def _report_property(family: str, params: dict[str, Any]) -> str | None:
    """The column a report's plot reads: descriptive line/box plots `y`, histograms `x`, heatmaps
    `property`, funnels the stage column `x`; model_ml_scores its `property` (default Propensity)."""
    if family == "descriptive":
        return params.get("property") if params.get("type") == "heatmap" else (
            params.get("x") if params.get("type") in ("histogram", "funnel") else params.get("y"))
    if family == "model_ml_scores":
        return params.get("property")
    return None


def _run_reports(calls: dict[str, list], warehouse: Path, work: Path) -> tuple[dict[str, Any], float]:
    """The report calls as processes (measured as one step), then in one interpreter (seconds)."""
    calls_path, results = work / "report_calls.json", work / "report_results.json"
    calls_path.write_text(json.dumps(calls["run"]))
    measurement = measure([sys.executable, "-m", "valuemarts.bench.compare", "cli", str(warehouse), str(calls_path),
                           str(results)])
    subprocess.run([sys.executable, "-m", "valuemarts.bench.compare", "api", str(warehouse), str(calls_path),
                    str(work / "api_results.json")], check=True, capture_output=True)
    in_process = json.loads((work / "api_results.json").read_text())["seconds"]
    failed = [r for r in json.loads(results.read_text()) if r["returncode"] != 0]
    return {"measurement": measurement, "failed": failed}, round(in_process, 2)


def timing_table(reference: Measurement, build: Measurement, reports: dict[str, Any],
                 append: Measurement) -> list[list]:
    """Rows of the timing table: each step's seconds and peak MB, and how it compares."""
    calls = reports["measurement"]
    total = Measurement(build.seconds + calls.seconds, max(build.peak_mb, calls.peak_mb))

    def faster(m: Measurement) -> str:
        return f"{reference.seconds / m.seconds:.1f}x faster" if m.seconds < reference.seconds else \
            f"{m.seconds / reference.seconds:.1f}x slower"

    return [
        ["reference: metrics + report data + CLV", round(reference.seconds, 1), round(reference.peak_mb), "1.0x"],
        ["valuemarts build (full)", round(build.seconds, 1), round(build.peak_mb), faster(build)],
        ["valuemarts report calls", round(calls.seconds, 1), round(calls.peak_mb), faster(calls)],
        ["valuemarts total", round(total.seconds, 1), round(total.peak_mb), faster(total)],
        ["valuemarts append one day", round(append.seconds, 1), round(append.peak_mb),
         f"{100 * append.seconds / build.seconds:.0f}% of the full build"],
    ]


def compare_all(warehouse: Path, reference_dir: Path, ih_dir: Path, specs: dict[str, Any]) -> list[list]:
    """The agreement rows of every comparison: valuemarts' report against the reference's frame,
    and the reference's rules replayed on the raw files (`reference_replay`) to explain differences."""
    from valuemarts.api import Warehouse

    wh = Warehouse.open(warehouse)
    table = []
    for comparison in COMPARISONS:
        ours = wh.report(comparison.metric, list(comparison.by), property=comparison.prop)
        theirs = pl.read_parquet(reference_dir / f"{comparison.name}.parquet")
        replayed = (replay(comparison.metric, specs["metrics"][comparison.metric], specs["global_filters"],
                           list(comparison.by), ih_dir) if comparison.metric in REPLAYED else None)
        table.extend(agreement(ours, theirs, comparison, replayed))
    return table


def agreement(ours: pl.DataFrame, theirs: pl.DataFrame, comparison: Comparison,
              replayed: pl.DataFrame | None = None) -> list[list]:
    """One row per checked column: groups compared, largest difference, verdict, explanation.

    Groups are joined on the comparison's keys (compared as text); a group present on one side
    only is named in the verdict. Exact checks allow EXACT relative error, approximate ones the
    check's tolerance per row. A difference is "explained" when `replayed` (the reference's rules
    applied to the raw rows) reproduces the reference's column exactly on every compared group:
    then the rules named in the explanation account for all of it; otherwise it "differs".
    """
    keys = comparison.join_keys
    wanted = unique_columns(keys + [c.reference for c in comparison.checks])
    joined = _as_text(ours, keys).join(_prefixed(theirs.select(wanted), keys, "ref_"), on=keys, how="inner",
                                       nulls_equal=True)
    if replayed is not None:
        joined = joined.join(_prefixed(replayed.select([c for c in wanted if c in replayed.columns]), keys, "replay_"),
                             on=keys, how="left", nulls_equal=True)
    only = _one_sided(ours.height - joined.height, theirs.height - joined.height)
    rows = []
    for check in comparison.checks:
        reference = pl.col(f"ref_{check.reference}").cast(pl.Float64)
        worst, agrees = _within(joined, pl.col(check.column).cast(pl.Float64), reference, check.tolerance)
        replay_column = f"replay_{check.reference}"
        explained = replay_column in joined.columns and _within(
            joined, pl.col(replay_column).cast(pl.Float64), reference, None)[1]
        verdict = ("exact" if check.tolerance is None else "within approximation error") if agrees else (
            "explained" if explained else "differs")
        name = check.column if check.column == check.reference else f"{check.column} vs {check.reference}"
        rows.append([comparison.metric, ",".join(comparison.by), name, joined.height,
                     None if worst is None else float(f"{worst:.6g}"), verdict + only,
                     "" if agrees and not only else check.explanation])
    return rows


def _within(joined: pl.DataFrame, ours: pl.Expr, reference: pl.Expr, tolerance: pl.Expr | None) -> tuple[Any, bool]:
    """The largest |ours - reference| and whether every row is within the tolerance (None: EXACT)
    with values present on both sides or on neither."""
    tol = EXACT * pl.max_horizontal(ours.abs(), reference.abs(), pl.lit(1.0)) if tolerance is None else tolerance
    scored = joined.select(diff=(ours - reference).abs(), tol=tol, missing=ours.is_null() != reference.is_null())
    ok = ((scored["diff"] <= scored["tol"]) | scored["diff"].is_null()).all() and not scored["missing"].any()
    return scored["diff"].max(), bool(ok) and joined.height > 0


def _as_text(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return frame.with_columns(pl.col(keys).cast(pl.String))


def _prefixed(frame: pl.DataFrame, keys: list[str], prefix: str) -> pl.DataFrame:
    return _as_text(frame, keys).rename({c: f"{prefix}{c}" for c in frame.columns if c not in keys})


def _one_sided(only_ours: int, only_theirs: int) -> str:
    parts = [f"{n} groups only in {side}" for n, side in ((only_ours, "valuemarts"), (only_theirs, "reference")) if n]
    return f" ({'; '.join(parts)})" if parts else ""


def warehouse_files(work: Path) -> dict[str, int]:
    """Bytes of the warehouse file and of what valuemarts writes beside it."""
    sizes = {"warehouse.duckdb": (work / "warehouse.duckdb").stat().st_size}
    for side in ("compiled", "dbt_target", "clv_model_cards"):
        folder = work / side
        if folder.exists():
            sizes[side] = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    return sizes


def _cli_calls(warehouse: str, calls_path: str, results_path: str) -> None:
    """Run each report call as the console command users type; record seconds and exit codes."""
    command = str(Path(sys.executable).parent / "valuemarts")
    results = []
    for call in json.loads(Path(calls_path).read_text()):
        started = time.perf_counter()
        done = subprocess.run([command, *call["command"], "--warehouse", warehouse], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        results.append({"report": call["report"], "seconds": time.perf_counter() - started,
                        "returncode": done.returncode, "error": done.stderr.strip()[-500:]})
    Path(results_path).write_text(json.dumps(results))


def _api_calls(warehouse: str, calls_path: str, results_path: str) -> None:
    """The same calls through `Warehouse.report` in this interpreter (imports included)."""
    started = time.perf_counter()
    from valuemarts.api import Warehouse

    wh = Warehouse.open(warehouse)
    for call in json.loads(Path(calls_path).read_text()):
        wh.report(call["metric"], call["by"], property=call["property"])
    Path(results_path).write_text(json.dumps({"seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    # Helper mode: python -m valuemarts.bench.compare cli|api WAREHOUSE CALLS.json RESULTS.json
    {"cli": _cli_calls, "api": _api_calls}[sys.argv[1]](*sys.argv[2:5])
