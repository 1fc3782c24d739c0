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
agree exactly, AUC and percentiles within the reference's own approximation error. Where they
don't, the row names the reference weaknesses (metrics-spec section 10) the difference comes from,
and the reference's rules replayed on the raw files (valuemarts.bench.reference_replay) check it:
"explained" means the replay reproduces the reference's value, so those weaknesses account for
the whole difference.
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
from valuemarts.bench.reference_pipeline import report_grouping, unique_columns
from valuemarts.bench.reference_replay import replay
from valuemarts.paths import project_dir
from valuemarts.tables import write_rows

DAYS = 90
HOLDINGS_CUSTOMERS = 46_500  # about 2.15 holdings each: ~100 000 holdings
EXACT = 1e-9  # relative tolerance of "exact"
COLUMNS = ["step", "seconds", "peak_mb", "vs_reference"]
AGREEMENT_COLUMNS = ["metric", "grouping", "column", "rows", "max_abs_diff", "verdict", "explanation"]

W1 = "w1: AUC/AP on a 0.01 threshold grid"
W4 = "w4: positive wins keeps all rows of an offer's winning class (Impression + Pending: 2 negatives)"
W5 = "w5: frequency = distinct holdings - 1, not repeat purchase periods"
W6 = "w6: dedup only within a file group (a next-day re-export counts twice)"
W7_ENG = "w7: cells without negatives dropped"
W7_CONV = "w7: cells without negatives dropped per file group"
W7_ML = "w7: per day, cells without a positive dropped"
TDIGEST = "t-digest quantiles, each within 1% rank (tolerance: 2% rank)"
GRID_REPRODUCED = 0.005  # the grid method with exact CDFs against the reference's digests, which interpolate
VERDICTS = ("exact / within approximation error: the two agree; explained: they differ, and the reference's "
            "documented rules replayed on the raw files (valuemarts.bench.reference_replay) reproduce its value "
            f"(exactly; grid AUC/AP within {GRID_REPRODUCED}), so the weaknesses named account for the whole "
            "difference; differs: not reproduced, the explanation is the likely cause")


@dataclass(frozen=True)
class Check:
    """One compared column: valuemarts' name, the reference's, and the weaknesses that explain a difference.

    `tolerance` is an expression over the joined row (valuemarts' columns unprefixed, the
    reference's prefixed `ref_`), None meaning exact (EXACT, relative); `reproduced_within` is how
    close the replayed rules must come to the reference's value (None: exact).
    """

    column: str
    reference: str
    explanation: str
    tolerance: pl.Expr | None = None
    reproduced_within: float | None = None


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


def _grid_error(exact: str, tdigest: str) -> pl.Expr:
    """The reference method's own error, measured on valuemarts' rows: its t-digest column against its exact one."""
    return (pl.col(tdigest) - pl.col(exact)).abs()


def _two_percent_rank(lower: str, upper: str, rank_span: float) -> pl.Expr:
    """2% of rank in value terms, from the slope between two neighbouring quantiles `rank_span` apart."""
    return 0.02 * (pl.col(f"Propensity_{upper}") - pl.col(f"Propensity_{lower}")) / rank_span


COMPARISONS = (
    Comparison("engagement_channel_placement", "engagement", ("Channel", "PlacementType"),
               _counts(f"{W4}; {W6}; {W7_ENG}", "CTR")),
    Comparison("engagement_day", "engagement", ("Day",), _counts(f"{W4}; {W6}; {W7_ENG}", "CTR")),
    Comparison("conversion_channel", "conversion", ("Channel",),
               _counts(f"{W4}; {W6}; {W7_CONV}", "ConversionRate")
               + (Check("Revenue", "Revenue", f"{W4}; {W6}; {W7_CONV}"),)),
    Comparison("model_ml_scores_channel", "model_ml_scores", ("Channel",), (
        Check("Count", "Count", f"{W7_ML}; {W4}; {W6}"),
        Check("roc_auc", "roc_auc", f"{W1}; its rows: {W7_ML}; {W4}; {W6}", _grid_error("roc_auc", "roc_auc_tdigest"),
              GRID_REPRODUCED),
        Check("roc_auc_tdigest", "roc_auc", f"same grid method (w1); its rows: {W7_ML}; {W4}; {W6}",
              _grid_error("roc_auc", "roc_auc_tdigest"), GRID_REPRODUCED),
        Check("average_precision_tdigest", "average_precision", f"same grid method (w1); its rows: {W7_ML}; {W4}; {W6}",
              _grid_error("average_precision", "average_precision_tdigest"), GRID_REPRODUCED),
    ), prop="Propensity"),
    Comparison("descriptive_channel", "descriptive", ("Channel",), (
        Check("Propensity_Count", "Propensity_Count", W6),
        Check("Propensity_Mean", "Propensity_Mean", W6),
        Check("Propensity_p25", "Propensity_p25", f"{TDIGEST}; {W6}", _two_percent_rank("p25", "Median", 0.25)),
        Check("Propensity_Median", "Propensity_Median", f"{TDIGEST}; {W6}", _two_percent_rank("p25", "p75", 0.5)),
        Check("Propensity_p90", "Propensity_p90", f"{TDIGEST}; {W6}", _two_percent_rank("p75", "p95", 0.2)),
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
        generate = ("demo-data", "--out", data, "--rows", rows, "--days", days, "--ih-format", "parquet")
        generated = measure(valuemarts_command(*generate, "--by-day", "--customers", customers,
                                               "--holdings-format", "parquet"))
        reference = _run_reference(reference_python, data, work / "reference")
        build_args = ("--config", data / "config.toml", "--ih", data / "ih", "--holdings", data / "holdings",
                      "--warehouse", warehouse)
        build = measure(valuemarts_command("build", *build_args))
        calls = report_calls(_specs(work))
        reports = _run_reports(calls, warehouse, work)
        agreement = compare_all(warehouse, work / "reference", data, _specs(work))
        measure(valuemarts_command(*generate, "--append-day"))
        append = measure(valuemarts_command("build", *build_args))
        files = warehouse_files(work)
    table = timing_table(reference, build, reports, append)
    out = write_result(f"compare_{rows}", COLUMNS, table, {
        "ih_rows": rows, "days": days, "holdings_customers": customers, "valuemarts_commit": valuemarts_commit(),
        "generation": {"seconds": round(generated.seconds, 1), "peak_mb": round(generated.peak_mb)},
        "reference": {"requirements": list(REQUIREMENTS), "phases_seconds": reference["seconds"],
                      "reports": reference["reports"], "quirks": reference["quirks"],
                      "state_rows": reference["state_rows"]},
        "valuemarts_reports": {"calls": reports["count"], "failed": reports["failed"], "skipped": calls["skipped"],
                               "commands": [c["command"] for c in calls["run"]]},
        "warehouse_bytes": files,
        "agreement": [dict(zip(AGREEMENT_COLUMNS, r)) for r in agreement], "verdicts": VERDICTS,
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


def valuemarts_commit() -> str | None:
    """The commit of the project measured (with "+changes" when its work tree differs), so that
    results taken while the code moves say what they measured."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(project_dir()), *args], capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    return (head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")) or None


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
    answered, skipped = [], []
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
        answered.append({"report": name, "metric": params["metric"], "by": by, "property": prop,
                         "command": command + (["--property", prop] if prop else [])})
    return {"run": answered, "skipped": skipped}


def _report_property(family: str, params: dict[str, Any]) -> str | None:
    """The column a report's plot reads: descriptive line/box plots `y`, histograms `x`, heatmaps
    `property`, funnels the stage column `x`; model_ml_scores its `property` (default Propensity)."""
    if family == "descriptive":
        return params.get("property") if params.get("type") == "heatmap" else (
            params.get("x") if params.get("type") in ("histogram", "funnel") else params.get("y"))
    if family == "model_ml_scores":
        return params.get("property")
    return None


def _run_reports(calls: dict[str, list], warehouse: Path, work: Path) -> dict[str, Any]:
    """The report calls as `valuemarts report` processes, then all in one interpreter through
    `Warehouse.report` (as a notebook or the viewer would); each set measured as one step."""
    calls_path, results = work / "report_calls.json", work / "report_results.json"
    calls_path.write_text(json.dumps(calls["run"]))
    helper = [sys.executable, "-m", "valuemarts.bench.compare"]
    processes = measure([*helper, "cli", str(warehouse), str(calls_path), str(results)])
    in_process = measure([*helper, "api", str(warehouse), str(calls_path)])
    failed = [r for r in json.loads(results.read_text()) if r["returncode"] != 0]
    return {"processes": processes, "in_process": in_process, "count": len(calls["run"]), "failed": failed}


def timing_table(reference_run: dict[str, Any], build: Measurement, reports: dict[str, Any],
                 append: Measurement) -> list[list]:
    """Rows of the timing table: each step's seconds and peak MB, and how it compares; the
    reference's phases as its own timers measured them inside its process."""
    reference, phases = reference_run["measurement"], reference_run["seconds"]
    clv_fit = reference_run["reports"].get("clv_model", {}).get("seconds")
    calls, in_process = reports["processes"], reports["in_process"]
    total = Measurement(build.seconds + calls.seconds, max(build.peak_mb, calls.peak_mb))
    failed = f" ({len(reports['failed'])} failed)" if reports["failed"] else ""

    def faster(m: Measurement) -> str:
        return f"{reference.seconds / m.seconds:.1f}x faster" if m.seconds < reference.seconds else \
            f"{m.seconds / reference.seconds:.1f}x slower"

    return [
        ["reference: metrics + report data + CLV", round(reference.seconds, 1), round(reference.peak_mb), "1.0x"],
        ["  its IH metric states (file groups, compaction)", round(phases["ih_metrics"], 1), None, ""],
        ["  its holdings CLV state", round(phases["holdings_clv"], 1), None, ""],
        ["  its report data" + (f" (CLV model fits: {clv_fit:.1f} s)" if clv_fit else ""), round(phases["reports"], 1),
         None, ""],
        ["valuemarts build (full)", round(build.seconds, 1), round(build.peak_mb), faster(build)],
        [f"valuemarts reports: {reports['count']} report processes{failed}", round(calls.seconds, 1),
         round(calls.peak_mb), faster(calls)],
        ["  the same in one process (Warehouse.report)", round(in_process.seconds, 1), round(in_process.peak_mb),
         faster(in_process)],
        ["valuemarts total (build + report processes)", round(total.seconds, 1), round(total.peak_mb), faster(total)],
        ["valuemarts append one day", round(append.seconds, 1), round(append.peak_mb),
         f"{100 * append.seconds / build.seconds:.0f}% of the full build"],
    ]


def compare_all(warehouse: Path, reference_dir: Path, data_dir: Path, specs: dict[str, Any]) -> list[list]:
    """The agreement rows of every comparison: valuemarts' report against the reference's frame,
    and the reference's rules replayed on the raw files (`reference_replay`) to explain differences."""
    from valuemarts.api import Warehouse

    wh = Warehouse.open(warehouse)
    table = []
    for comparison in COMPARISONS:
        ours = wh.report(comparison.metric, list(comparison.by), property=comparison.prop)
        theirs = pl.read_parquet(reference_dir / f"{comparison.name}.parquet")
        replayed = replay(comparison.metric, specs["metrics"][comparison.metric], specs["global_filters"],
                          list(comparison.by), data_dir)
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
            joined, pl.col(replay_column).cast(pl.Float64), reference,
            None if check.reproduced_within is None else pl.lit(check.reproduced_within))[1]
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


def _api_calls(warehouse: str, calls_path: str) -> None:
    """The same calls through `Warehouse.report` in this interpreter."""
    from valuemarts.api import Warehouse

    wh = Warehouse.open(warehouse)
    for call in json.loads(Path(calls_path).read_text()):
        wh.report(call["metric"], call["by"], property=call["property"])


if __name__ == "__main__":
    # Helper mode: python -m valuemarts.bench.compare cli WAREHOUSE CALLS.json RESULTS.json | api WAREHOUSE CALLS.json
    {"cli": _cli_calls, "api": _api_calls}[sys.argv[1]](*sys.argv[2:])
