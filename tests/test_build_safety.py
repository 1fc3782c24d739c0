"""Builds with real processes: one build at a time per warehouse, interrupted and killed builds
leave the previous warehouse intact and nothing running, zero IH rows build, and the command line
errors a user meets on bad paths name the cause."""

from __future__ import annotations

import hashlib
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from valuemarts import build as build_module
from valuemarts.build import ONE_MODEL_AT_A_TIME_ROWS
from valuemarts.cli import main
from valuemarts.config import compiler
from valuemarts.config.compiler import compile_file
from valuemarts.demo import write_demo

VALUEMARTS = str(Path(sys.executable).parent / "valuemarts")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six days of demo IH (zip exports) and holdings, with the demo config."""
    root = tmp_path_factory.mktemp("safety")
    write_demo(root, rows=3_000, seed=11, days=6, ih_format="zip", holdings_format="csv")
    return root


@pytest.fixture(scope="module")
def built(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse built from the first four days: the 'previous warehouse' of the tests below."""
    warehouse = tmp_path_factory.mktemp("built") / "warehouse.duckdb"
    code = main(["build", "--warehouse", str(warehouse), "--config", str(demo / "config.toml"),
                 "--ih", *map(str, ih_files(demo)[:4]), "--holdings", str(demo / "holdings")])
    assert code == 0
    return warehouse


def ih_files(demo: Path) -> list[Path]:
    return sorted((demo / "ih").glob("*.zip"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def start_build(warehouse: Path, demo: Path, ih: list[Path], *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [VALUEMARTS, "build", "--warehouse", str(warehouse), "--config", str(demo / "config.toml"),
         "--ih", *map(str, ih), "--holdings", str(demo / "holdings"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def holds_lock(warehouse: Path, pid: int) -> bool:
    lock = warehouse.with_name(warehouse.name + ".lock")
    return lock.exists() and lock.read_text().startswith(f"pid {pid},")


def dbt_children(pid: int) -> list[int]:
    """Processes whose parent is `pid` and whose command line runs dbt."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and "dbt" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def loaded_files(warehouse: Path) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return sorted(r[0] for r in con.execute(
            "select file_path from landing._load_log where source = 'ih'").fetchall())
    finally:
        con.close()


def ih_rows(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select count(*) from landing.ih_raw").fetchone()[0]
    finally:
        con.close()


# --- one build at a time ---------------------------------------------------------------------------

def test_second_build_stops_at_once_while_one_runs(demo: Path, built: Path, tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(built, warehouse)
    first = start_build(warehouse, demo, ih_files(demo))
    wait_for(lambda: holds_lock(warehouse, first.pid), "the first build to take the lock")
    second = start_build(warehouse, demo, ih_files(demo))
    _, err = second.communicate(timeout=120)
    assert second.returncode == 1
    assert "another build is running" in err and f"pid {first.pid}" in err
    assert first.wait(timeout=300) == 0
    assert loaded_files(warehouse) == sorted(str(p.resolve()) for p in ih_files(demo))


def test_waiting_builds_both_land(demo: Path, tmp_path: Path):
    """Two builds of different files on one new warehouse: the second waits and appends, so the
    warehouse holds both (without the lock the second swapped its copy over the first's)."""
    warehouse = tmp_path / "warehouse.duckdb"
    files = ih_files(demo)
    first = start_build(warehouse, demo, files[:3], "--wait")
    wait_for(lambda: holds_lock(warehouse, first.pid), "the first build to take the lock")
    second = start_build(warehouse, demo, files[3:], "--wait")
    out1, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    assert (first.returncode, second.returncode) == (0, 0), err1 + err2
    assert "waiting for the build running" in err2
    assert loaded_files(warehouse) == sorted(str(p.resolve()) for p in files)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        per_file = dict(con.execute("select file_path, rows_read from landing._load_log where source = 'ih'").fetchall())
    finally:
        con.close()
    assert ih_rows(warehouse) == sum(per_file.values()) > 0


# --- interrupted and killed builds -----------------------------------------------------------------

def build_running_dbt(demo: Path, built: Path, tmp_path: Path) -> tuple[Path, str, subprocess.Popen, int]:
    """A copy of the built warehouse (and its hash), and a build on it that has started dbt (its pid)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(built, warehouse)
    before = sha256(warehouse)
    proc = start_build(warehouse, demo, ih_files(demo))
    wait_for(lambda: dbt_children(proc.pid), "dbt to start")
    (child,) = dbt_children(proc.pid)
    return warehouse, before, proc, child


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopped_build_cleans_up_and_stops_dbt(demo: Path, built: Path, tmp_path: Path, sig: signal.Signals):
    warehouse, before, proc, child = build_running_dbt(demo, built, tmp_path)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig
    assert "Traceback" not in err and "previous warehouse is intact" in err
    wait_for(lambda: not alive(child), "dbt to stop", timeout=30)
    assert not warehouse.with_name(warehouse.name + ".building").exists()
    assert sha256(warehouse) == before


def test_killed_build_leaves_nothing_running_and_the_next_build_works(demo: Path, built: Path, tmp_path: Path):
    warehouse, before, proc, child = build_running_dbt(demo, built, tmp_path)
    proc.kill()
    proc.communicate(timeout=30)
    wait_for(lambda: not alive(child), "dbt to die with its parent", timeout=30)
    assert sha256(warehouse) == before
    # The lock died with the process; the leftover .building file is replaced by the next build.
    assert main(["build", "--warehouse", str(warehouse), "--config", str(demo / "config.toml"),
                 "--ih", *map(str, ih_files(demo)), "--holdings", str(demo / "holdings")]) == 0
    assert not warehouse.with_name(warehouse.name + ".building").exists()
    assert loaded_files(warehouse) == sorted(str(p.resolve()) for p in ih_files(demo))


# --- zero rows -------------------------------------------------------------------------------------

def test_filter_that_keeps_no_ih_row_builds_empty_ih_marts_and_full_holdings_marts(demo: Path, tmp_path: Path):
    text = (demo / "config.toml").read_text()
    original = 'filter = "pl.col(\\"Channel\\").is_not_null()"'
    assert original in text
    config = tmp_path / "nothing.toml"
    config.write_text(text.replace(original, 'filter = "pl.col(\\"Channel\\") == \\"no such channel\\""'))
    warehouse = tmp_path / "warehouse.duckdb"
    assert main(["build", "--warehouse", str(warehouse), "--config", str(config),
                 "--ih", str(demo / "ih"), "--holdings", str(demo / "holdings")]) == 0
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        count = lambda table: con.execute(f"select count(*) from marts.{table}").fetchone()[0]
        for table in ("mart_engagement", "mart_conversion", "mart_experiment", "mart_model_ml_scores",
                      "mart_descriptive"):
            assert count(table) == 0, table
        customers = con.execute("select count(distinct CustomerID) from staging.stg_pega__holdings").fetchone()[0]
        assert count("mart_clv__customers") == customers > 0
    finally:
        con.close()


# --- errors that name the cause --------------------------------------------------------------------

def test_named_folder_that_matches_nothing_is_an_error(demo: Path, tmp_path: Path, capsys):
    text = (demo / "config.toml").read_text()
    config = tmp_path / "json_pattern.toml"
    # The reference template's holdings pattern, on a folder of csv exports.
    config.write_text(re.sub(r'(\[holdings\][^\[]*?file_pattern = )"[^"]*"', r'\1"**/*.json"', text, count=1))
    assert '"**/*.json"' in config.read_text()
    warehouse = tmp_path / "warehouse.duckdb"
    code = main(["build", "--warehouse", str(warehouse), "--config", str(config),
                 "--ih", str(demo / "ih"), "--holdings", str(demo / "holdings")])
    err = capsys.readouterr().err
    assert code == 1
    assert str(demo / "holdings") in err and "'**/*.json'" in err and "holdings.file_pattern" in err
    assert not warehouse.exists()


@pytest.mark.parametrize("kind", ["folder", "text file"])
def test_warehouse_that_is_not_a_duckdb_file_is_one_line(tmp_path: Path, kind: str):
    warehouse = tmp_path / "not-a-warehouse"
    if kind == "folder":
        warehouse.mkdir()
    else:
        warehouse.write_text("InteractionID,Outcome\n1,Clicked\n")
    for command in (["marts"], ["sql", "select 1"], ["report", "engagement"]):
        proc = subprocess.run([VALUEMARTS, *command, "--warehouse", str(warehouse)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, command
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {warehouse}: "), proc.stderr


def test_output_cut_short_by_a_closed_pipe_ends_quietly(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute("create table marts.numbers as select range as n from range(200000)")
    con.close()
    proc = subprocess.run(f"'{VALUEMARTS}' sql 'select * from marts.numbers' --warehouse '{warehouse}' | head -n 2",
                          shell=True, capture_output=True, text=True, timeout=60)
    assert proc.stdout.splitlines() == ["n", "0"]
    assert proc.stderr == ""


def test_large_builds_run_one_model_at_a_time():
    # Two models side by side share DuckDB's memory limit; from 1M IH rows a full build gets one
    # thread, and an append, whose models read little, keeps two.
    assert build_module._threads(ONE_MODEL_AT_A_TIME_ROWS - 1, appending=False) == []
    assert build_module._threads(ONE_MODEL_AT_A_TIME_ROWS, appending=False) == ["--threads", "1"]
    assert build_module._threads(ONE_MODEL_AT_A_TIME_ROWS, appending=True) == []


def test_warehouse_of_an_older_layout_is_rebuilt_in_full(demo: Path, built: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch):
    # The layout version is part of the config hash: a warehouse whose recorded hash differs (as one
    # built with the text row keys does) is rebuilt from all its files, not appended to.
    compiled_now = compile_file(demo / "config.toml", check_columns=False).dbt_vars["config_hash"]
    monkeypatch.setattr(compiler, "WAREHOUSE_LAYOUT", compiler.WAREHOUSE_LAYOUT - 1)
    assert compile_file(demo / "config.toml", check_columns=False).dbt_vars["config_hash"] != compiled_now
    monkeypatch.undo()

    warehouse = tmp_path / "older.duckdb"
    shutil.copy2(built, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("update landing._builds set config_hash = 'an older layout'")
    con.close()
    capsys.readouterr()
    code = main(["build", "--warehouse", str(warehouse), "--config", str(demo / "config.toml"),
                 "--ih", *map(str, ih_files(demo)[:5]), "--holdings", str(demo / "holdings")])
    assert code == 0
    captured = capsys.readouterr()
    assert "running dbt build (full refresh)" in captured.out + captured.err
