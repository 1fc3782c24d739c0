"""The reference system's metric pipeline, headless: run by the reference's own virtual environment.

`valuemarts bench compare` runs this file with the Python of `bench/.reference-venv` (where
`cdhdashboard` is installed), so it imports nothing from valuemarts. It drives the reference's own
functions the way its Streamlit pages do, minus the pages:

1. `pipeline.ih.load_data`: file groups -> `read_file_group` -> `collect_ih_metrics_data` per
   group -> `compact_data` per metric, stored in the reference's DuckDB file (its persistence);
2. `pipeline.holdings.load_holdings_data`: holdings file groups -> the CLV state;
3. the data of every configured report, with the grouping its plot function would use, through
   `reports.repdata.calculate_reports_data` (and `merge_descriptive_digests` for histograms, the
   lifetimes fits of the CLV model report);
4. the shared metrics valuemarts is compared on, one parquet file per comparison.

Outside `streamlit run`, Streamlit's caches are plain in-memory caches and `st.session_state`
is a plain mapping, so the pages' functions run as they are once the session keys the data
import page would set (config file, IH and holdings folders) are in place.

Usage: python reference_pipeline.py REQUEST.json, where the request names `config`, `ih`,
`holdings`, `workdir` (the reference writes `db/` there) and `comparisons` (name, metric, by,
property); the result is `workdir/result.json` and `workdir/<comparison name>.parquet`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

PLOT_AXES = ("x", "facet_column", "facet_row", "color")


def main(request_path: str) -> None:
    """Run the pipeline described by the request file; write result.json and the comparison frames."""
    request = json.loads(Path(request_path).read_text())
    workdir = Path(request["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)  # PolarsDuckDBProxy writes db/pov_data_<variant>.duckdb under the working directory
    quirks: list[str] = []
    config_path = _reference_config(Path(request["config"]), workdir, quirks)

    import streamlit as st

    from value_dashboard.utils.common_constants import HOLDINGS_FOLDER_SESSION_KEY, IH_FOLDER_SESSION_KEY

    st.session_state["app_config"] = str(config_path)
    st.session_state[IH_FOLDER_SESSION_KEY] = _folder(request["ih"])
    st.session_state[HOLDINGS_FOLDER_SESSION_KEY] = _folder(request["holdings"])
    st.session_state["drop_cache"] = True

    from value_dashboard.pipeline.holdings import load_holdings_data
    from value_dashboard.pipeline.ih import load_data
    from value_dashboard.utils.config import get_config

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    states = load_data()
    seconds["ih_metrics"] = time.perf_counter() - started
    started = time.perf_counter()
    states.update(load_holdings_data())
    seconds["holdings_clv"] = time.perf_counter() - started
    config = get_config()
    started = time.perf_counter()
    reports = {name: _report(states, config, name, params, quirks)
               for name, params in config.get("reports", {}).items()}
    seconds["reports"] = time.perf_counter() - started
    for comparison in request["comparisons"]:
        _comparison_frame(states, config, comparison).write_parquet(workdir / f"{comparison['name']}.parquet")
    (workdir / "result.json").write_text(json.dumps({
        "seconds": seconds, "reports": reports, "quirks": quirks,
        "state_rows": {metric: frame.height for metric, frame in states.items()},
        "versions": _versions(),
    }, indent=2))


def _reference_config(config: Path, workdir: Path, quirks: list[str]) -> Path:
    """The config as the reference can run it: the template's `holdings.extensions.columns` is an
    array of two fragments of one expression, which the reference's `eval` refuses (TypeError), so
    the fragments are joined, as the reference's own demo config writes it as one string."""
    import tomlkit

    doc = tomlkit.parse(config.read_text(encoding="utf-8"))
    columns = doc.get("holdings", {}).get("extensions", {}).get("columns")
    if isinstance(columns, list):
        doc["holdings"]["extensions"]["columns"] = ", ".join(str(part) for part in columns)
        quirks.append("holdings.extensions.columns is an array in the template; the reference evals a string, "
                      "so its fragments were joined with ', '")
    out = workdir / "reference_config.toml"
    out.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return out


def _folder(path: str) -> str:
    """The reference globs `folder + file_pattern`, so the folder must end with a separator."""
    return str(Path(path).resolve()) + os.sep


def report_grouping(params: dict[str, Any], metric_group_by: list[str]) -> list[str]:
    """The grouping the report's plot function hands to `calculate_reports_data`.

    Line, box and generic plots replace the report's `group_by` by [x, facet_column, facet_row,
    color]; with the pages' "advanced options" on (their default) a missing x or color is the
    first of the metric's sorted group_by. Experiment plots add their facets to group_by;
    descriptive histograms group by their facets, heatmaps by x and y, funnels by group_by and
    the stage column. Every other report uses its group_by as written.
    """
    metric, kind = params["metric"], params.get("type")
    group_by = list(params.get("group_by") or [])
    if metric.startswith("experiment"):
        return unique_columns(group_by + [params[k] for k in ("facet_row", "facet_column") if k in params])
    if metric.startswith("clv"):
        return group_by
    if metric.startswith("descriptive") and kind == "histogram":
        return unique_columns([params[k] for k in ("facet_column", "facet_row") if k in params])
    if metric.startswith("descriptive") and kind == "heatmap":
        return unique_columns([params["x"], params["y"]])
    if metric.startswith("descriptive") and kind == "funnel":
        return unique_columns(group_by + [params["x"]])
    if kind in ("line", "boxplot", "generic") or not _known_type(metric, kind):
        first = sorted(metric_group_by)[0] if metric_group_by else None
        axes = {k: params.get(k) for k in PLOT_AXES}
        if kind != "boxplot" and not metric.startswith("descriptive"):
            axes["x"] = axes["x"] or first
            axes["color"] = axes["color"] or first
        return unique_columns([v for v in axes.values() if v and v != "---"])
    return group_by


def _known_type(metric: str, kind: str | None) -> bool:
    """Whether the registry maps the type to a plot of its own (else the generic bar/line plot)."""
    mapped = {"engagement": {"line", "bar_polar", "gauge", "treemap", "heatmap", "scatter"},
              "conversion": {"line", "heatmap", "scatter", "gauge", "treemap", "bar_polar"},
              "model_ml_scores": {"line", "heatmap", "scatter", "treemap"},
              "descriptive": {"line", "boxplot", "funnel", "histogram", "heatmap"}}
    return any(metric.startswith(family) and kind in types for family, types in mapped.items())


def unique_columns(columns: list[str]) -> list[str]:
    return list(dict.fromkeys(columns))


def _report(states: dict, config: dict, name: str, params: dict[str, Any], quirks: list[str]) -> dict[str, Any]:
    """One report's data as its page computes it; its seconds and rows, or the error it raised."""
    from value_dashboard.reports.repdata import calculate_reports_data, merge_descriptive_digests

    metric = params["metric"]
    group_by = report_grouping(params, list(config["metrics"].get(metric, {}).get("group_by", [])))
    cp_config = {**params, "group_by": group_by}
    started = time.perf_counter()
    try:
        state = states[metric]
        if metric.startswith("descriptive") and params.get("type") == "histogram":
            frame = merge_descriptive_digests(state, cp_config)
        else:
            frame = calculate_reports_data(state, cp_config)
        if metric.startswith("clv") and params.get("type") == "model":
            _clv_model(frame)
    except Exception as exc:  # the reference's own failure is a result to report, not a crash of the benchmark
        quirks.append(f"report {name}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        return {"group_by": group_by, "error": f"{type(exc).__name__}: {exc}"}
    return {"group_by": group_by, "seconds": time.perf_counter() - started, "rows": frame.height}


def _clv_model(rfm) -> None:
    """The fits of the CLV model page at its default choices (Gamma-Gamma on BG/NBD, one year)."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    clv = rfm.to_pandas()
    clv = clv[clv["frequency"] > 0]
    bgf = BetaGeoFitter(penalizer_coef=0.001)
    bgf.fit(clv["frequency"], clv["recency"], clv["tenure"])
    ggf = GammaGammaFitter(penalizer_coef=0.01)
    ggf.fit(clv["frequency"], clv["monetary_value"])
    ggf.customer_lifetime_value(bgf, clv["frequency"], clv["recency"], clv["tenure"], clv["monetary_value"],
                                time=365, freq="D", discount_rate=0.01)


def _comparison_frame(states: dict, config: dict, comparison: dict[str, Any]):
    """The reference's report data for one shared-metric comparison (curve columns dropped)."""
    import polars as pl

    from value_dashboard.reports.repdata import calculate_reports_data

    params = {"metric": comparison["metric"], "group_by": list(comparison["by"])}
    if comparison.get("property"):
        params["property"] = comparison["property"]
    frame = calculate_reports_data(states[comparison["metric"]], params)
    return frame.select([c for c, t in frame.schema.items() if not t.is_nested() and t != pl.Binary])


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("cdhdashboard", "polars", "numpy", "datasketches", "lifetimes")}


if __name__ == "__main__":
    main(sys.argv[1])
