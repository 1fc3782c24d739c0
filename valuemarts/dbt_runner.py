"""Run dbt on a given warehouse file, in its own process.

A separate process keeps dbt's DuckDB handle out of ours: the file it writes is opened by no one
else until it is swapped in. The child lives and dies with its parent: it runs in its own process
group (a terminal's Ctrl-C reaches the parent, which stops the child and cleans up), an exception
or signal in the parent stops the whole group, and the kernel kills the child if the parent is
killed outright (SIGKILL leaves nothing running).
"""

from __future__ import annotations

import json
import ctypes
import functools
import os
import signal
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
    command = [str(dbt), "--no-use-colors", *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
               "--target-path", str(dbt_target_dir(warehouse)), "--log-path", str(dbt_target_dir(warehouse) / "logs")]
    if dbt_vars is not None:
        # Unescaped unicode: dbt's YAML reader rejects the surrogate pairs JSON writes for emoji.
        command += ["--vars", json.dumps({"valuemarts": dbt_vars}, ensure_ascii=False)]
    proc = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True, preexec_fn=functools.partial(_die_with_parent, os.getpid()))
    try:
        output, _ = proc.communicate()
    except BaseException:
        _stop_group(proc)
        raise
    if proc.returncode != 0:
        raise ValueMartsError("dbt " + args[0] + " failed:\n" + _errors_of(output))
    models = sum(1 for line in output.splitlines() if " OK created " in line or "OK loaded seed" in line)
    return DbtResult(models_built=models, output=output)


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """In the child before exec: ask Linux to SIGKILL it when the parent dies (and exit now if the
    parent died before the request was made)."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _stop_group(proc: subprocess.Popen, grace_seconds: float = 10.0) -> None:
    """SIGTERM the child's process group, then SIGKILL what is still there after the grace."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace_seconds)
            return
        except subprocess.TimeoutExpired:
            continue


def dbt_target_dir(warehouse: Path) -> Path:
    """dbt's target folder for a warehouse (manifest, run results, logs)."""
    return warehouse.parent / "dbt_target"


def _errors_of(output: str) -> str:
    lines = output.splitlines()
    picked = [l for l in lines if "Error" in l or "ERROR" in l or "FAIL" in l]
    return "\n".join(picked[-40:] or lines[-40:])
