"""The library API (`valuemarts.api.Warehouse`) is what the command line prints: reports, read-only
SQL, the mart list; only writers build; `report` loads no more than a report needs."""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml

import python_udfs
from python_udfs import registry
from valuemarts.api import Warehouse
from valuemarts.cli import main
from valuemarts.dbt_runner import progress_line, run_dbt
from valuemarts.errors import ValueMartsError
from valuemarts.paths import compiled_dir
from valuemarts.tables import write_rows

REPO = Path(__file__).resolve().parents[1]


def cli(capsys: pytest.CaptureFixture, *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def same_cell(value: object, text: str) -> bool:
    """A csv cell says exactly `value`: the same number (floats to the last bit), string or empty."""
    if value is None:
        return text == ""
    if isinstance(value, bool):
        return text == str(value)
    if isinstance(value, (int, float)):
        return float(text) == value
    if hasattr(value, "as_tuple"):  # Decimal: DuckDB's HUGEINT sums
        return int(text) == value
    return text == str(value)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("metric, by", [("engagement", []), ("engagement", ["Channel"]),
                                        ("experiment", []), ("conversion", ["Channel", "PlacementType"])])
def test_report_is_what_the_cli_prints(demo_warehouse, capsys, metric: str, by: list[str]) -> None:
    frame = Warehouse.open(demo_warehouse.warehouse).report(metric, by=by)
    out = cli(capsys, "report", metric, "--warehouse", str(demo_warehouse.warehouse),
              *(["--by", ",".join(by)] if by else []))
    header, *rows = list(csv.reader(io.StringIO(out)))
    assert header == frame.columns
    assert len(rows) == frame.height > 0
    for expected, printed in zip(frame.rows(), rows):
        assert all(same_cell(v, t) for v, t in zip(expected, printed)), (expected, printed)


def test_report_by_one_column_name_and_where(demo_warehouse) -> None:
    wh = Warehouse.open(demo_warehouse.warehouse)
    assert wh.report("engagement", by="Channel").equals(wh.report("engagement", by=["Channel"]))
    web = wh.report("engagement", by="Channel", where="Channel == 'Web'")
    assert web["Channel"].to_list() == ["Web"]


def test_report_errors_name_the_problem(demo_warehouse) -> None:
    wh = Warehouse.open(demo_warehouse.warehouse)
    with pytest.raises(ValueMartsError, match="metric 'nope' is not configured; configured: "):
        wh.report("nope")
    with pytest.raises(ValueMartsError, match="--by: Nope not in metric 'engagement'"):
        wh.report("engagement", by="Nope")


def test_metrics_are_the_configured_names(demo_warehouse) -> None:
    names = Warehouse.open(demo_warehouse.warehouse).metrics()
    assert {"engagement", "conversion", "experiment", "model_ml_scores", "descriptive", "clv"} <= set(names)


def test_sql_reads_and_refuses_writes(demo_warehouse) -> None:
    wh = Warehouse.open(demo_warehouse.warehouse)
    before = sha256(demo_warehouse.warehouse)
    loads = wh.sql("select source, sum(rows_read) as rows_read from marts.mart_file_loads group by 1 order by 1")
    assert loads["source"].to_list() == ["holdings", "ih"] and loads["rows_read"].min() > 0
    for statement in ("delete from marts.mart_file_loads", "create table marts.x as select 1",
                      "copy marts.mart_file_loads to 'out.csv'", "select 1; drop table marts.mart_file_loads"):
        with pytest.raises(ValueMartsError, match="^query: "):
            wh.sql(statement)
    assert sha256(demo_warehouse.warehouse) == before


def test_sql_reads_a_warehouse_named_through_a_symlinked_folder(demo_warehouse, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(demo_warehouse.warehouse.parent, target_is_directory=True)
    count = "select count(*) from marts.mart_file_loads"
    assert Warehouse.open(link / demo_warehouse.warehouse.name).sql(count).item() == \
        Warehouse.open(demo_warehouse.warehouse).sql(count).item() > 0


def test_marts_lists_mart_file_loads_with_its_grain_and_rows(demo_warehouse, capsys) -> None:
    wh = Warehouse.open(demo_warehouse.warehouse)
    marts = wh.marts()
    assert marts.columns == ["mart", "grain", "rows"]
    (row,) = marts.filter(marts["mart"] == "marts.mart_file_loads").rows(named=True)
    assert row["rows"] == wh.sql("select count(*) n from marts.mart_file_loads")["n"][0] > 0
    assert row["grain"]
    assert set(marts["mart"].str.split(".").list.first()) == {"marts"}
    assert {"intermediate", "staging"} <= set(wh.marts(include_all=True)["mart"].str.split(".").list.first())
    printed = cli(capsys, "marts", "--warehouse", str(demo_warehouse.warehouse), "--format", "csv")
    assert list(csv.reader(io.StringIO(printed)))[1:] == [[m, g, str(n)] for m, g, n in marts.rows()]


def test_read_only_warehouse_refuses_build_and_load(demo_warehouse) -> None:
    before = sha256(demo_warehouse.warehouse)
    wh = Warehouse.open(demo_warehouse.warehouse)
    for write in (wh.build, wh.load):
        with pytest.raises(ValueMartsError, match="open read-only; use Warehouse\\(path, read_only=False\\)"):
            write(demo_warehouse.config, ih=demo_warehouse.data / "ih")
    assert sha256(demo_warehouse.warehouse) == before
    assert not demo_warehouse.warehouse.with_name("warehouse.duckdb.building").exists()


def test_missing_warehouse_is_named_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "none.duckdb"
    for read in (lambda wh: wh.report("engagement"), lambda wh: wh.sql("select 1"), Warehouse.marts,
                 Warehouse.metrics):
        with pytest.raises(ValueMartsError, match="no warehouse yet; run `valuemarts build` first"):
            read(Warehouse.open(missing))
    assert not missing.exists()


def test_run_dbt_passes_each_finished_model_to_log_as_it_goes(demo_warehouse, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(demo_warehouse.warehouse, warehouse)
    dbt_vars = yaml.safe_load((compiled_dir(demo_warehouse.warehouse) / "vars.yml").read_text())["valuemarts"]
    lines: list[str] = []
    result = run_dbt(["run", "--select", "mart_file_loads"], warehouse, dbt_vars, log=lines.append)
    assert result.models_built == 1
    assert re.fullmatch(r"  1/1 OK    marts\.mart_file_loads \(table, \d+\.\d+s\)", lines[0]), lines
    assert re.fullmatch(r"  dbt done: PASS=\d+ WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=\d+", lines[1]), lines
    assert len(lines) == 2


def test_first_runs_on_new_warehouses_share_the_parse_state(demo_warehouse, tmp_path: Path) -> None:
    """dbt's first run for a warehouse starts from the parse state another warehouse of the same
    file name and vars left (no full parse); other vars parse in full."""
    dbt_vars = yaml.safe_load((compiled_dir(demo_warehouse.warehouse) / "vars.yml").read_text())["valuemarts"]
    full_parse = "Unable to do partial parsing because saved manifest not found"

    def parse(folder: str, run_vars: dict) -> str:
        warehouse = tmp_path / folder / "warehouse.duckdb"
        warehouse.parent.mkdir()
        run_dbt(["parse"], warehouse, run_vars)
        return (warehouse.parent / "dbt_target" / "logs" / "dbt.log").read_text()

    parse("first", dbt_vars)  # leaves the state in the cache whether or not it found one
    assert full_parse not in parse("second", dbt_vars)
    assert full_parse in parse("other_vars", dbt_vars | {"config_hash": "another config " + str(tmp_path)})


def test_dbt_lines_condense_to_one_per_finished_model() -> None:
    lines = {
        "12:00:01  1 of 40 START sql table model marts.mart_engagement ..... [RUN]": None,
        "12:00:02  1 of 40 OK created sql table model marts.mart_engagement ..... [OK in 0.52s]":
            "   1/40 OK    marts.mart_engagement (table, 0.52s)",
        "12:00:02  2 of 40 OK loaded seed file reference.rfm_segments ... [INSERT 256 in 0.25s]":
            "   2/40 OK    reference.rfm_segments (seed, 0.25s)",
        "12:00:03  3 of 40 PASS not_null_mart_engagement_metric_name ..... [PASS in 0.02s]": None,
        "12:00:03  4 of 40 FAIL 3 not_null_mart_engagement_CTR ..... [FAIL 3 in 0.02s]":
            "   4/40 FAIL  not_null_mart_engagement_CTR (test, 0.02s)",
        "12:00:04  5 of 40 ERROR creating python table model marts.mart_clv__drift .. [ERROR in 1.10s]":
            "   5/40 ERROR marts.mart_clv__drift (table, 1.10s)",
        "12:00:04  6 of 40 SKIP relation marts.mart_clv__customers ..... [SKIP]":
            "   6/40 SKIP  marts.mart_clv__customers (model)",
        "12:00:00  1 of 1 OK hook: valuemarts.on-run-start.0 ..... [OK in 0.02s]": None,
        "12:00:00  1 of 1 ERROR hook: valuemarts.on-run-start.0 ..... [ERROR in 0.02s]":
            "  1/1 ERROR valuemarts.on-run-start.0 (hook, 0.02s)",
        "12:00:05  Done. PASS=38 WARN=0 ERROR=1 SKIP=1 NO-OP=0 TOTAL=40": "  dbt done: PASS=38 WARN=0 ERROR=1 SKIP=1 NO-OP=0 TOTAL=40",
        # The Spark launcher's lines: a Python model it ran, the CLV files it wrote.
        "12:00:06  2 of 5 OK created python table model intermediate.int_clv__model_fits [OK in 1.24s]":
            "  2/5 OK    intermediate.int_clv__model_fits (table, 1.24s)",
        "CLV files: 2 model card(s) and alert(s) under ['/data/spark/clv_model_cards']\n":
            "CLV files: 2 model card(s) and alert(s) under ['/data/spark/clv_model_cards']",
    }
    assert {line: progress_line(line) for line in lines} == lines


def test_report_help_lists_the_configured_metrics(demo_warehouse, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help", "--warehouse", str(demo_warehouse.warehouse)])
    listed = " ".join(capsys.readouterr().out.split())
    assert "engagement" in listed.split("metrics configured in ", 1)[1]
    with pytest.raises(SystemExit):
        main(["report", "--warehouse", str(tmp_path / "none.duckdb"), "-h"])
    assert "metrics: none to list" in " ".join(capsys.readouterr().out.split())


def test_every_flag_has_help(capsys) -> None:
    from valuemarts.cli import COMMANDS, parser

    root = parser()
    commands = next(a for a in root._actions if a.dest == "command").choices
    assert set(commands) == {name.replace("_", "-") for name in COMMANDS}
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.help, f"{name} {'/'.join(action.option_strings) or action.dest}: no help text"
    which = next(a for a in commands["bench"]._actions if a.dest == "which")
    assert {"compare", "scale"} <= set(which.choices)  # built with issue 14, so advertised


def test_table_format_rounds_floats_and_csv_keeps_them() -> None:
    rows = [("Web", 0.0123456789, 123456.789, 3.14159e-12, 7)]
    table, plain = io.StringIO(), io.StringIO()
    write_rows(["Channel", "CTR", "Revenue", "p", "n"], rows, "table", table)
    write_rows(["Channel", "CTR", "Revenue", "p", "n"], rows, "csv", plain)
    assert table.getvalue().splitlines()[2].split() == ["Web", "0.01235", "123457", "3.142e-12", "7"]
    assert plain.getvalue().splitlines()[1] == "Web,0.0123456789,123456.789,3.14159e-12,7"


def test_udf_signatures_match_their_modules() -> None:
    """The registry binds UDFs from their signatures alone; they must be the implementing modules' own."""
    declared = {}
    for module in {module for module, _, _ in registry.SIGNATURES.values()}:
        for name, function, params, returns, kwargs in importlib.import_module(module).UDFS:
            declared[name] = (module, tuple(params), returns)
            assert kwargs == registry.UDF_KWARGS, name
            assert registry.implementation(module, name) is function
    assert declared == registry.SIGNATURES


def test_udfs_outlive_the_connection_that_registered_them(tmp_path) -> None:
    """Connections to one file in a process share its database, so the UDFs a first connection
    registered are the ones a second one calls after the first closed (the viewer's pages while its
    build thread reports). DuckDB keeps no reference to a UDF's function: when it was freed with
    the first connection, the call crashed the process (a segfault, hence the child process)."""
    code = ("import gc, sys, duckdb; from valuemarts.duck import connect; "
            "path = sys.argv[1]; duckdb.connect(path).close(); "
            "first = connect(path, read_only=True); second = connect(path, read_only=True); "
            "first.close(); del first; gc.collect(); "
            "print(second.execute('select vm_norm_p_two_sided(1.959963984540054)').fetchone()[0])")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "shared.duckdb")], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert float(done.stdout) == pytest.approx(0.05, rel=1e-12)


def test_a_report_process_loads_only_what_the_report_needs(demo_warehouse) -> None:
    """No build, compiler or dbt code, no t-digest code and no scipy (its p-values are the normal
    tail's) for an engagement report."""
    heavy = ["valuemarts.build", "valuemarts.config.compiler", "dbt", "python_udfs.tdigest_udfs", "sklearn", "scipy"]
    code = ("import sys; from valuemarts.cli import main; "
            f"code = main(['report', 'engagement', '--warehouse', {str(demo_warehouse.warehouse)!r}]); "
            f"print([m for m in {heavy!r} if m in sys.modules], file=sys.stderr); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_normal_p_value_udf_agrees_with_scipy() -> None:
    """vm_norm_p_two_sided (erfc, no scipy) against scipy's 2·Φ(−|z|), NULL for NULL and NaN."""
    from scipy import special

    z = np.concatenate([np.linspace(-37.0, 37.0, 20001), [np.inf, -np.inf]])
    con = python_udfs.register(duckdb.connect())
    got = con.execute("select z, vm_norm_p_two_sided(z) as p from (select unnest(?) as z)", [z.tolist()]).fetchnumpy()
    assert len(got["z"]) == len(z)
    np.testing.assert_allclose(got["p"], 2.0 * special.ndtr(-np.abs(got["z"])), rtol=1e-12, atol=0)
    assert con.execute("select vm_norm_p_two_sided(null), vm_norm_p_two_sided('nan'::double)").fetchone() == (None, None)
