"""The governance bar (scripts/governance.py): the project meets it, and each kind of gap fails it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the repository and its dbt project


SCRIPT = PROJECT_DIR / "scripts" / "governance.py"


def governance(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=PROJECT_DIR)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The project's manifest, parsed the way the script parses it."""
    spec = importlib.util.spec_from_file_location("governance", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return json.loads(module.parse_manifest(tmp_path_factory.mktemp("parse")).read_text())


def doctored(manifest: dict, tmp_path: Path, change) -> Path:
    copy = json.loads(json.dumps(manifest))
    change(copy)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(copy))
    return path


def mart(manifest: dict, name: str) -> dict:
    return manifest["nodes"][f"model.valuemarts.{name}"]


def test_the_project_meets_the_bar():
    result = governance()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "marts with public access" in result.stdout and result.stdout.rstrip().endswith("governance: ok")


def test_a_mart_column_without_a_description_fails(manifest, tmp_path):
    def blank(m):
        mart(m, "mart_clv__drift")["columns"]["alert_path"]["description"] = ""
    result = governance(str(doctored(manifest, tmp_path, blank)))
    assert result.returncode == 1
    assert "mart_clv__drift.alert_path: no description" in result.stdout


def test_a_fixed_shape_mart_without_a_contract_fails(manifest, tmp_path):
    def uncontract(m):
        mart(m, "mart_clv__clusters")["config"]["contract"]["enforced"] = False
    result = governance(str(doctored(manifest, tmp_path, uncontract)))
    assert result.returncode == 1 and "mart_clv__clusters: no enforced contract" in result.stdout


def test_a_protected_mart_fails(manifest, tmp_path):
    def protect(m):
        mart(m, "mart_file_loads")["access"] = "protected"
    result = governance(str(doctored(manifest, tmp_path, protect)))
    assert result.returncode == 1 and "mart_file_loads: access is not public" in result.stdout


def test_too_few_unit_tests_or_no_exposure_fails(manifest, tmp_path):
    def strip(m):
        m["exposures"] = {}
        m["unit_tests"] = dict(list(m["unit_tests"].items())[:5])
    result = governance(str(doctored(manifest, tmp_path, strip)))
    assert result.returncode == 1
    assert "exposures: 0, at least 1 needed" in result.stdout and "unit tests: 5, at least 6 needed" in result.stdout


def test_hugeint_columns_fail_in_a_contract_and_in_a_warehouse(manifest, tmp_path):
    def widen(m):
        mart(m, "mart_clv__clusters")["columns"]["customers"]["data_type"] = "hugeint"
    result = governance(str(doctored(manifest, tmp_path, widen)))
    assert result.returncode == 1 and "mart_clv__clusters.customers: HUGEINT" in result.stdout

    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute("create table marts.mart_counts as select sum(1::bigint) as n")  # a sum of BIGINTs is HUGEINT
    con.close()
    result = governance(str(doctored(manifest, tmp_path, lambda m: None)), "--warehouse", str(warehouse))
    assert result.returncode == 1 and "marts.mart_counts.n: HUGEINT" in result.stdout
