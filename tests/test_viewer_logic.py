"""The viewer's logic without a server or browser: filters, KPIs, plans and charts of every report
type, config key lines, uploads, the address rule, and pages rendered in-process (Panel's testing
guide). Numbers are checked against `Warehouse.report`/`Warehouse.sql` and, for the intervals the
reports don't carry, against the marts' own columns computed by the same formula."""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

import holoviews as hv
import polars as pl
import pytest

from valuemarts.api import Warehouse
from valuemarts.cli import main
from valuemarts.errors import ConfigErrors, ValueMartsError
from viewer.app import check_address
from viewer.charts.grids import heatmap_chart
from viewer.charts.shapes import box_chart, funnel_chart, gauge_chart, squarify, treemap_layout
from viewer.config_text import diff, key_line, key_lines
from viewer.filters import merged, where_sql
from viewer.kpis import dashboard_kpis, lift_interval, wilson
from viewer.marts import Marts
from viewer.plans import histogram_sql, plan_for
from viewer.state import ViewerState
from viewer.uploads import save_uploads
from viewer.widgets import note, options

hv.extension("bokeh")


# ---- filters -----------------------------------------------------------------------------------

def test_where_sql_quotes_values_and_names() -> None:
    assert where_sql({"Channel": ["Web"], "Year": [2024]}, {"Channel", "Year"}) == '"Channel" IN (\'Web\') AND "Year" IN (2024)'
    assert where_sql({"Other": ["x"]}, {"Channel"}) is None
    assert where_sql({'Odd"name': ["a'b"]}, {'Odd"name'}) == '"Odd""name" IN (\'a\'\'b\')'
    assert where_sql({"Channel": []}, {"Channel"}) == "FALSE"
    assert merged({"Channel": ["Web", "Mobile"]}, {"Channel": ["Web"], "Year": [2024]}) == {"Channel": ["Web"], "Year": [2024]}


def test_hostile_filter_value_is_only_a_value(demo_warehouse) -> None:
    wh = Warehouse.open(demo_warehouse.warehouse)
    hostile = where_sql({"Channel": ["Web' OR '1'='1", "x') or read_text('/etc/passwd') is not null --"]}, {"Channel"})
    assert wh.report("engagement", where=hostile)["Count"].to_list() in ([0], [None])
    web = where_sql({"Channel": ["Web"]}, {"Channel"})
    expected = wh.sql("select sum(positives + negatives) from marts.mart_engagement__state where metric_name = "
                      "'engagement' and \"Channel\" = 'Web'").item()
    assert wh.report("engagement", where=web)["Count"].item() == expected


# ---- KPIs and intervals ----------------------------------------------------------------------------

def test_wilson_is_the_engagement_interval(demo_warehouse) -> None:
    rows = Warehouse.open(demo_warehouse.warehouse).report("engagement", by=["Channel"])
    for row in rows.iter_rows(named=True):
        low, high = wilson(row["Positives"], row["Count"])
        assert low == pytest.approx(row["CTR_ci_low"], rel=1e-9)
        assert high == pytest.approx(row["CTR_ci_high"], rel=1e-9)
    assert wilson(0, 0) is None


def test_lift_interval_is_the_experiment_interval(demo_warehouse) -> None:
    rows = Warehouse.open(demo_warehouse.warehouse).report("experiment")
    control = {r["ExperimentName"]: r for r in rows.filter(pl.col("is_control")).iter_rows(named=True)}
    checked = 0
    for row in rows.filter(~pl.col("is_control") & pl.col("lift_ci_low").is_not_null()).iter_rows(named=True):
        c = control[row["ExperimentName"]]
        low, high = lift_interval(row["Positives"], row["Count"], c["Positives"], c["Count"])
        assert (low, high) == (pytest.approx(row["lift_ci_low"], rel=1e-9), pytest.approx(row["lift_ci_high"], rel=1e-9))
        checked += 1
    assert checked >= 2
    assert lift_interval(0, 10, 5, 10) is None


def test_dashboard_kpis_follow_the_filter(demo_warehouse) -> None:
    marts = Marts(demo_warehouse.warehouse)
    state = ViewerState(marts)
    wh = Warehouse.open(demo_warehouse.warehouse)
    for filters, where in (({}, None), ({"Channel": ["Web"]}, "Channel = 'Web'")):
        state.filters = filters
        cards = {k.key: k for k in dashboard_kpis(marts, state.where)}
        assert set(cards) == {"ctr", "lift", "conversion_rate", "revenue", "auc", "clv"}
        engagement = wh.report("engagement", where=where).row(0, named=True)
        assert cards["ctr"].value == engagement["CTR"]
        assert cards["lift"].value == engagement["Lift"]
        assert cards["conversion_rate"].value == wh.report("conversion", where=where)["ConversionRate"].item()
        assert cards["auc"].value == wh.report("model_ml_scores", where=where)["roc_auc"].item()
        assert cards["ctr"].trend.height == wh.report("engagement", by=["Day"], where=where).height
    customers = wh.sql("select avg(lifetime_value) from marts.mart_clv__customers").item()
    assert cards["clv"].value == pytest.approx(customers, rel=1e-9)


# ---- plans and charts ----------------------------------------------------------------------------

def test_every_demo_report_has_a_plan_and_renders(demo_warehouse) -> None:
    wh = Warehouse.open(demo_warehouse.warehouse)
    specs = wh.specs()
    types = set()
    for name, spec in specs["reports"].items():
        plan = plan_for(spec, specs["metrics"])
        frame = (wh.sql(histogram_sql(plan.metric, plan.prop, plan.by, None)) if plan.source == "histogram"
                 else wh.report(plan.metric, list(plan.by), None, plan.prop))
        assert frame.height > 0, name
        hv.render(plan.draw(frame))
        types.add(spec["type"])
    assert types == {"bar_polar", "gauge", "treemap", "heatmap", "scatter", "line", "boxplot", "histogram", "funnel",
                     "exposure", "corr", "model", "rfm_density", "generic"}


def test_line_reports_group_by_x_facets_and_colour(demo_warehouse) -> None:
    specs = Warehouse.open(demo_warehouse.warehouse).specs()
    plan = plan_for(specs["reports"]["daily_ctr"], specs["metrics"])
    assert plan.by == ("Day", "PlacementType", "Channel", "Group")
    assert plan_for(specs["reports"]["describe_histogram"], specs["metrics"]).source == "histogram"
    with pytest.raises(ValueError, match="no 'gauge' chart"):
        plan_for({"metric": "clv", "type": "gauge"}, specs["metrics"])


def test_histogram_bins_hold_all_the_mass(demo_warehouse) -> None:
    frame = Warehouse.open(demo_warehouse.warehouse).sql(histogram_sql("descriptive", "Propensity", ("Channel",), None))
    masses = frame.group_by("Channel").agg(pl.col("mass").sum())
    assert masses["mass"].to_list() == pytest.approx([1.0] * masses.height, abs=1e-6)
    assert masses.height == Warehouse.open(demo_warehouse.warehouse).report("descriptive", by=["Channel"]).height


def test_squarify_fills_the_box_in_proportion() -> None:
    sizes = [6, 6, 4, 3, 2, 2, 1]
    boxes = squarify(sizes, 0, 0, 6, 4)
    areas = [w * h for _, _, w, h in boxes]
    assert areas == pytest.approx([s * 24 / sum(sizes) for s in sizes])
    for x, y, w, h in boxes:
        assert 0 <= x and 0 <= y and x + w <= 6 + 1e-9 and y + h <= 4 + 1e-9
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap_w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
            overlap_h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
            assert overlap_w <= 1e-9 or overlap_h <= 1e-9


def test_treemap_nests_leaves_inside_their_parent() -> None:
    frame = pl.DataFrame({"Channel": ["Web", "Web", "Mobile", "Mobile"], "Issue": ["A", "B", "A", "B"],
                          "Count": [10, 30, 40, 20], "CTR": [0.1, 0.2, 0.3, 0.4]})
    laid = treemap_layout(frame, ["Channel", "Issue"], "Count")
    area = ((laid["x1"] - laid["x0"]) * (laid["y1"] - laid["y0"]))
    assert (area / area.sum()).to_list() == pytest.approx((laid["Count"] / 100).to_list())
    parents = treemap_layout(frame.group_by("Channel").agg(pl.col("Count").sum()), ["Channel"], "Count")
    for row in laid.iter_rows(named=True):
        parent = parents.filter(pl.col("Channel") == row["Channel"]).row(0, named=True)
        assert parent["x0"] - 1e-9 <= row["x0"] and row["x1"] <= parent["x1"] + 1e-9
        assert parent["y0"] - 1e-9 <= row["y0"] and row["y1"] <= parent["y1"] + 1e-9


def test_gauge_colours_by_reference() -> None:
    frame = pl.DataFrame({"Channel": ["Web", "Web", "Mobile"], "PlacementType": ["Hero", "Tile", "Hero"],
                          "CTR": [0.05, 0.07, 0.2]})
    chart = gauge_chart(frame, {"value": "CTR", "reference": {"Web_Hero": 0.1, "Web_Tile": 0.08}},
                        ["Channel", "PlacementType"])
    bars = chart.get(0).dframe().set_index("group")
    assert bars.loc["Web · Hero", "status"] == "far below reference"   # 0.05 < 0.75 * 0.1
    assert bars.loc["Web · Tile", "status"] == "below reference"       # 0.075 <= 0.07 < 0.08... below
    assert bars.loc["Mobile · Hero", "status"] == "on target"          # no reference


def test_heatmap_and_funnel_count_missing_cells_as_zero() -> None:
    frame = pl.DataFrame({"Month": ["01", "02", "01"], "Group": ["a", "a", "b"], "CTR": [0.1, 0.2, 0.3]})
    cells = heatmap_chart(frame, {"x": "Month", "y": "Group"}, "CTR").dframe()
    assert cells.loc[(cells["Month"] == "02") & (cells["Group"] == "b"), "CTR"].tolist() == [0]
    stages = pl.DataFrame({"Outcome": ["Clicked", "Impression"], "Outcome_Count": [5, 100]})
    bars = funnel_chart(stages, {"x": "Outcome", "stages": ["Impression", "Clicked", "Conversion"]},
                        "Outcome_Count").dframe()
    assert bars["Outcome"].tolist() == ["Impression", "Clicked", "Conversion"]
    assert bars["Outcome_Count"].tolist() == [100, 5, 0]


def test_box_whiskers_stop_at_the_extremes() -> None:
    frame = pl.DataFrame({"Day": [1, 2], "P_p25": [1.0, 1.0], "P_Median": [2.0, 2.0], "P_p75": [3.0, 3.0],
                          "P_Min": [0.5, -10.0], "P_Max": [3.5, 20.0]})
    whiskers = box_chart(frame, {"x": "Day"}, "P").get(0).dframe()
    assert whiskers["lower"].tolist() == [0.5, -2.0]   # max(p25 - 1.5 IQR, Min)
    assert whiskers["upper"].tolist() == [3.5, 6.0]    # min(p75 + 1.5 IQR, Max)


# ---- config text -----------------------------------------------------------------------------------

def test_compiler_messages_point_at_their_lines(demo_warehouse) -> None:
    text = demo_warehouse.config.read_text()
    broken = text.replace('[reports.daily_ctr]\nmetric = "engagement"\ntype = "line"', '[reports.daily_ctr]\n'
                          'metric = "engagement"\ntype = "line"\nsize = "NoSuchColumn"', 1)
    assert broken != text
    with pytest.raises(ConfigErrors) as raised:
        Warehouse.open(demo_warehouse.warehouse).check_config(broken)
    error = next(e for e in raised.value.errors if e.key == "reports.daily_ctr.size")
    assert broken.splitlines()[key_line(broken, error.key)].startswith('size = "NoSuchColumn"')
    assert key_line(broken, "reports.daily_ctr.group_by[3]") == key_lines(broken)["reports.daily_ctr.group_by"]
    assert key_line(broken, "nothing.here") is None
    assert diff(text, text) == ""
    assert '+size = "NoSuchColumn"' in diff(text, broken)


def test_every_template_key_has_a_line(demo_warehouse) -> None:
    import tomllib

    text = demo_warehouse.config.read_text()
    lines = key_lines(text)

    def paths(table: dict, prefix: str) -> list[str]:
        out = []
        for key, value in table.items():
            path = f"{prefix}.{key}" if prefix else key
            out.append(path)
            if isinstance(value, dict) and f"[{path}]" in text:   # an inline table is one key
                out += paths(value, path)
        return out

    missing = [p for p in paths(tomllib.loads(text), "") if p not in lines]
    assert missing == []


# ---- uploads and serving ---------------------------------------------------------------------------

def test_uploads_keep_only_file_names_and_loader_formats(tmp_path: Path, monkeypatch) -> None:
    folder = save_uploads({"../../escape/day.csv": "a,b\n", "x.parquet": b"PAR1"}, tmp_path / "w.duckdb", "ih")
    assert sorted(p.name for p in folder.iterdir()) == ["day.csv", "x.parquet"]
    assert folder.parent == tmp_path / "uploads" / "ih"
    with pytest.raises(ValueMartsError, match="not a format the loader reads"):
        save_uploads({"evil.sh": b"#!"}, tmp_path / "w.duckdb", "ih")
    monkeypatch.setenv("VALUEMARTS_ARCHIVE_MAX_BYTES", "10")
    with pytest.raises(ValueMartsError, match="over the upload limit of 10 bytes"):
        save_uploads({"big.csv": "x" * 11}, tmp_path / "w.duckdb", "holdings")
    with pytest.raises(ValueMartsError, match="no file uploaded"):
        save_uploads({}, tmp_path / "w.duckdb", "ih")


def test_other_addresses_need_a_password(demo_warehouse, monkeypatch, capsys) -> None:
    for address in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_address(address, None)
    with pytest.raises(ValueMartsError, match="VALUEMARTS_VIEWER_PASSWORD"):
        check_address("0.0.0.0", None)
    check_address("0.0.0.0", "secret")
    monkeypatch.delenv("VALUEMARTS_VIEWER_PASSWORD", raising=False)
    assert main(["serve", "--warehouse", str(demo_warehouse.warehouse), "--address", "0.0.0.0"]) == 1
    assert "set a password first" in capsys.readouterr().err


def shown(pane: object) -> str:
    """The text an HTML pane shows."""
    return html.unescape(re.sub(r"<[^>]+>", "", pane.object))


def test_messages_and_choices_show_markup_as_text() -> None:
    hostile = "<img src=x onerror=alert(1)> **/*.zip `x`"
    box = note(hostile, "danger")
    assert "<img" not in box.object and shown(box) == hostile
    assert list(options([hostile, 2024])) == [html.escape(hostile), "2024"]
    assert list(options([hostile]).values()) == [hostile]


# ---- state and pages in-process --------------------------------------------------------------------

def test_a_swapped_warehouse_is_seen_and_not_served_from_cache(demo_warehouse, tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    shutil.copy2(demo_warehouse.warehouse, path)
    marts = Marts(path)
    state = ViewerState(marts)
    before = marts.query("select count(*) from marts.mart_file_loads").item()
    assert not state.check_warehouse()
    other = tmp_path / "other.duckdb"
    shutil.copy2(demo_warehouse.warehouse, other)
    import duckdb  # the test writes the new file; the viewer itself never opens a connection

    con = duckdb.connect(str(other))
    con.execute("create table marts.viewer_probe as select 1 as x")
    con.close()
    os.replace(other, path)   # the swap a build does: a new file renamed over the old one
    assert state.check_warehouse() and state.version == 1
    assert marts.query("select count(*) from information_schema.tables where table_name = 'viewer_probe'").item() == 1
    assert marts.query("select count(*) from marts.mart_file_loads").item() == before


def test_sql_page_shows_the_reason_of_a_refusal(demo_warehouse) -> None:
    from viewer.jobs import BuildRunner
    from viewer.pages.sql import SqlPage

    page = SqlPage(ViewerState(Marts(demo_warehouse.warehouse)), BuildRunner(demo_warehouse.warehouse, None))
    page.panel()
    for query in ("DROP TABLE x", "select read_text('/etc/passwd')"):
        with pytest.raises(ValueMartsError) as refused:
            Warehouse.open(demo_warehouse.warehouse).sql(query)
        page.editor.value = query
        page._run(None)
        assert shown(page.result.objects[0]) == str(refused.value)
    page.editor.value = "select source, count(*) as n from marts.mart_file_loads group by 1 order by 1"
    page._run(None)
    table = page.result.objects[0].objects[1]
    expected = Warehouse.open(demo_warehouse.warehouse).sql(page.editor.value)
    assert table.value["n"].tolist() == expected["n"].to_list()


def test_experiment_verdict_sentences() -> None:
    from viewer.pages.experiments import verdict

    rows = pl.DataFrame({"Arm": ["Control", "A", "B"], "is_control": [True, False, False],
                         "lift": [None, -0.2, 0.1], "p_holm": [None, 0.001, 0.4]})
    assert verdict(rows, "Arm") == "A trails control by 20.00% (Holm-adjusted p = 0.001, significant at the 5% level)."
    rows = rows.with_columns(pl.Series("p_holm", [None, 0.2, 0.4]))
    assert verdict(rows, "Arm").startswith("Not significant yet at the 5% level: the closest arm, A,")


def test_history_page_reads_the_ledger_and_records_verdicts(demo_warehouse, tmp_path) -> None:
    from datetime import date

    from viewer.jobs import BuildRunner
    from viewer.pages.history import HistoryPage, runs_between, trend_chart, verdict_subjects

    wh = Warehouse.open(demo_warehouse.warehouse)
    page = HistoryPage(ViewerState(Marts(demo_warehouse.warehouse)), BuildRunner(demo_warehouse.warehouse, None))
    page.panel()
    experiments = sorted(wh.experiment_history()["experiment"].unique().to_list())
    reports = sorted(wh.specs()["reports"])
    assert list(page.subject.options.values()) == [f"experiment:{e}" for e in experiments] + [f"report:{r}" for r in reports]
    page.subject.value, page.decision.value, page.reason.value = f"report:{reports[0]}", "more-data", "too-few-units"
    page.note_text.value, page.decided_by.value = "<i>wait</i> a week", "analyst"
    before = wh.verdicts().height
    page._record(None)
    latest = wh.verdicts().row(-1, named=True)
    assert wh.verdicts().height == before + 1
    assert (latest["subject"], latest["decision"], latest["reason"], latest["note"], latest["decided_by"]) == (
        f"report:{reports[0]}", "more-data", "too-few-units", "<i>wait</i> a week", "analyst")
    table = page.verdicts_box.objects[-1].objects[1]
    assert table.value["note"].tolist()[-1] == "<i>wait</i> a week" and shown(page.verdicts_box.objects[0]) == "Verdict recorded."
    page.subject.options = {"dashboard": "dashboard"}   # not experiment:NAME or report:NAME
    page.subject.value = "dashboard"
    page._record(None)
    assert "--subject" in shown(page.verdicts_box.objects[0]) and wh.verdicts().height == before + 1

    runs = pl.DataFrame({"run_id": [1, 2, 3], "started_at": ["2026-11-01T23:59:59+00:00", "2026-11-02T00:00:00+00:00",
                                                             "2026-11-04T12:00:00+00:00"]})
    assert runs_between(runs, date(2026, 11, 2), date(2026, 11, 3))["run_id"].to_list() == [2]
    assert runs_between(runs, None, date(2026, 11, 1))["run_id"].to_list() == [1]
    assert verdict_subjects({}, pl.DataFrame()) == []
    history = wh.experiment_history().filter(pl.col("experiment") == experiments[0])
    chart = trend_chart(history, "lift")
    curves = chart.traverse(lambda element: element, [hv.Curve])
    assert sorted(c.label for c in curves) == sorted(history["arm"].unique().to_list())
    for curve in curves:
        arm = curve.label
        expected = [float("nan") if v is None else v for v in history.filter(pl.col("arm") == arm)["lift"].to_list()]
        assert curve.dimension_values("value").tolist() == pytest.approx(expected, nan_ok=True)


def test_the_import_page_lists_what_the_server_received():
    from viewer.pages.data_import import received_text

    assert received_text({"b.zip": b"12345", "a.csv": "x,y\n"}) == "Received: a.csv (4 bytes), b.zip (5 bytes)"


def test_build_progress_shows_only_the_current_builds_result() -> None:
    """A new build hides the last one's result (an upload's test once read an old error as its own)."""
    from viewer.jobs import Progress
    from viewer.progress import BuildProgressView

    class Runner:
        current = Progress(label="first", error="bad.csv: missing required column(s)", finished_at=1.0)

        def progress(self) -> Progress:
            return self.current

    runner = Runner()
    view = BuildProgressView(runner)
    view.update()
    assert [pane.object for pane in view.result.objects] and "bad.csv" in view.result.objects[0].object
    runner.current = Progress(label="second", running=True, done=3, total=10)
    view.update()
    assert view.result.objects == [] and "3 of 10" in view.status.object and view.bar.visible
    runner.current = Progress(label="second", summary=("models built: 20",), finished_at=2.0)
    view.update()
    assert "Built: models built: 20" in view.result.objects[0].object and not view.bar.visible
