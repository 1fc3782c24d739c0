"""Run dbt on a given warehouse file, in its own process.

A separate process keeps dbt's DuckDB handle out of ours: the file it writes is opened by no one
else until it is swapped in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from valuemarts.errors import ValueMartsError
from valuemarts.paths import PROJECT_DIR


@dataclass
class DbtResult:
    models_built: int
    output: str


def run_dbt(args: list[str], warehouse: Path, dbt_vars: dict | None = None) -> DbtResult:
    """Run dbt against `warehouse`. The compiled config goes in as --vars and dbt's target and
    logs sit beside the warehouse, so builds of different warehouses never share files."""
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, "VALUEMARTS_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [str(dbt), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
               "--target-path", str(dbt_target_dir(warehouse)), "--log-path", str(dbt_target_dir(warehouse) / "logs")]
    if dbt_vars is not None:
        command += ["--vars", json.dumps({"valuemarts": dbt_vars})]
    proc = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise ValueMartsError("dbt " + args[0] + " failed:\n" + _errors_of(output))
    models = sum(1 for line in output.splitlines() if " OK created " in line or "OK loaded seed" in line)
    return DbtResult(models_built=models, output=output)


def dbt_target_dir(warehouse: Path) -> Path:
    """dbt's target folder for a warehouse (manifest, run results, logs)."""
    return warehouse.parent / "dbt_target"


def _errors_of(output: str) -> str:
    lines = output.splitlines()
    picked = [l for l in lines if "Error" in l or "ERROR" in l or "FAIL" in l]
    return "\n".join(picked[-40:] or lines[-40:])
