"""Warehouse teams: `valuemarts load` then their own plain `dbt build`, in the project folder they
run in; a warehouse and the config it was built with stay together."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from valuemarts.demo import write_demo

pytestmark = pytest.mark.slow  # several builds each (tests/conftest.py runs slow files first)

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the repository and its dbt project

BIN = Path(sys.executable).parent
# CLV columns computed from fitted model parameters (BG/NBD, Gamma-Gamma, sBG, the prediction engine).
FITTED_OUTPUTS = ("p_alive", "expected_purchases", "expected_spend", "one_off_value", "expected_renewals",
                  "recurring_clv", "lifetime_value", "predicted_value", "clv_index")
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plain_dbt")
    write_demo(root, rows=3_000, seed=3, days=4, ih_format="zip", holdings_format="csv")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A second clone of the dbt project (a warehouse team's checkout), sharing this venv."""
    clone = tmp_path / "clone"
    for name in PROJECT_FILES:
        source = PROJECT_DIR / name
        target = clone / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("compiled"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return clone


def run(cmd: list[str], cwd: Path, warehouse: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALUEMARTS_")}
    env["VALUEMARTS_WAREHOUSE"] = str(warehouse)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def dbt(project: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    return run([str(BIN / "dbt"), "--no-use-colors", *args], project, warehouse)


def valuemarts(project: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    return run([str(BIN / "valuemarts"), *args], project, warehouse)


def rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def frame(warehouse: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).pl()
    finally:
        con.close()


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def unit_test_results(target: Path) -> list[str]:
    """The unit tests a dbt run passed, from its run_results.json."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return [r["unique_id"] for r in results if r["unique_id"].startswith("unit_test.") and r["status"] == "pass"]


def test_load_then_plain_dbt_build_equals_valuemarts_build(demo: Path, project: Path, tmp_path: Path):
    repo_macro = PROJECT_DIR / "macros" / "compiled" / "valuemarts_compiled_config.sql"
    repo_macro_before = digest(repo_macro)
    warehouse = tmp_path / "team.duckdb"
    loaded = valuemarts(project, warehouse, "load", "--config", str(demo / "config.toml"),
                        "--ih", str(demo / "ih"), "--holdings", str(demo / "holdings"))
    assert loaded.returncode == 0, loaded.stderr
    assert "files: 5 new" in loaded.stdout
    # The compiled config went into the project the user ran in, not the package's clone.
    assert (project / "macros" / "compiled" / "valuemarts_compiled_config.sql").exists()
    assert digest(repo_macro) == repo_macro_before
    built = dbt(project, warehouse, "build")
    assert built.returncode == 0, built.stdout[-3000:]
    # Plain `dbt build` runs the scoring logic's unit tests (where CI checks them) ...
    unit_tests = list(json.loads((project / "target" / "manifest.json").read_text())["unit_tests"])
    assert len(unit_tests) >= 10
    assert sorted(unit_tests) == sorted(unit_test_results(project / "target"))

    reference = tmp_path / "reference.duckdb"
    assert valuemarts(project, reference, "build", "--config", str(demo / "config.toml"), "--ih", str(demo / "ih"),
                      "--holdings", str(demo / "holdings")).returncode == 0
    # ... and `valuemarts build`, the production run, leaves them out: they test logic, not data.
    assert unit_test_results(tmp_path / "dbt_target") == []
    for mart in ("mart_engagement", "mart_conversion", "mart_experiment", "mart_descriptive", "mart_clv__customers"):
        query = f"select * from marts.{mart} order by all"
        ours, theirs = frame(warehouse, query), frame(reference, query)
        fitted = [c for c in FITTED_OUTPUTS if c in ours.columns]
        # Equal up to float summation order (parallel aggregation) ...
        assert_frame_equal(ours.drop(fitted), theirs.drop(fitted), check_exact=False, rel_tol=1e-9)
        # ... which moves an iterative fit (L-BFGS, gtol 1e-8) within its convergence tolerance.
        assert_frame_equal(ours.select(fitted), theirs.select(fitted), check_exact=False, rel_tol=1e-5)

    report = valuemarts(project, warehouse, "report", "engagement", "--by", "Channel")
    assert report.returncode == 0 and report.stdout.startswith("Channel,Positives,Negatives,Count,CTR")

    # An incremental plain run leaves no dbt temporary tables behind.
    assert dbt(project, warehouse, "build").returncode == 0
    assert rows(warehouse, "select table_name from information_schema.tables where table_name like '%dbt_tmp%'") == []


def test_plain_dbt_on_a_warehouse_without_landing_says_what_to_run(demo: Path, project: Path, tmp_path: Path):
    assert valuemarts(project, tmp_path / "other.duckdb", "compile", str(demo / "config.toml")).returncode == 0
    result = dbt(project, tmp_path / "empty.duckdb", "build")
    assert result.returncode != 0
    assert "valuemarts load --config" in result.stdout
    assert 'schema "landing" does not exist' not in result.stdout


def test_plain_dbt_with_another_config_refuses_until_full_refresh(demo: Path, project: Path, tmp_path: Path):
    warehouse = tmp_path / "team.duckdb"
    first = demo / "config.toml"
    other = tmp_path / "other.toml"
    other.write_text(first.read_text().replace('name = "Demo"', 'name = "Other"', 1))
    assert 'name = "Other"' in other.read_text()
    assert valuemarts(project, warehouse, "build", "--config", str(first), "--ih", str(demo / "ih"),
                      "--holdings", str(demo / "holdings")).returncode == 0
    before = digest(warehouse)

    assert valuemarts(project, warehouse, "compile", str(other)).returncode == 0
    refused = dbt(project, warehouse, "build")
    assert refused.returncode != 0
    assert "built with config 'Demo'" in refused.stdout and "dbt build --full-refresh" in refused.stdout
    assert digest(warehouse) == before

    rebuilt = dbt(project, warehouse, "build", "--full-refresh")
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    recorded = rows(warehouse, "select config_name from landing._builds order by built_at desc limit 1")
    assert recorded == [("Other",)]
    # Reports read the config the warehouse was last built with.
    report = valuemarts(project, warehouse, "report", "engagement", "--by", "Channel")
    assert report.returncode == 0, report.stderr


def test_project_dir_flag_picks_the_project_wherever_the_user_runs(demo: Path, project: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    compiled = valuemarts(elsewhere, tmp_path / "w.duckdb", "compile", str(demo / "config.toml"),
                          "--project-dir", str(project))
    assert compiled.returncode == 0, compiled.stderr
    assert (project / "macros" / "compiled" / "valuemarts_compiled_config.sql").exists()
    # Without the flag, a folder that is no valuemarts project falls back to the package's clone,
    # never to the folder itself.
    assert not (elsewhere / "macros").exists()


def test_relative_warehouse_is_the_users_file_not_one_in_the_project(demo: Path, project: Path, tmp_path: Path):
    # dbt runs in the project folder; a relative --warehouse must still name the file where the user runs.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    built = valuemarts(elsewhere, tmp_path / "unused.duckdb", "build", "--config", str(demo / "config.toml"),
                       "--ih", str(demo / "ih"), "--holdings", str(demo / "holdings"),
                       "--warehouse", "w.duckdb", "--project-dir", str(project))
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert rows(elsewhere / "w.duckdb", "select count(*) from marts.mart_engagement")[0][0] > 0
    assert not list(project.glob("w.duckdb*"))
