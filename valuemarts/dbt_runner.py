"""Run dbt on a given warehouse file, in its own process.

A separate process keeps dbt's DuckDB handle out of ours: the file it writes is opened by no one
else until it is swapped in. The child lives and dies with its parent: it runs in its own process
group (a terminal's Ctrl-C reaches the parent, which stops the child and cleans up), an exception
or signal in the parent stops the whole group, and the kernel kills the child if the parent is
killed outright (SIGKILL leaves nothing running). Its output is read as it comes, so a build
can show each model as it finishes.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from valuemarts.errors import ValueMartsError
from valuemarts.paths import project_dir


@dataclass
class DbtResult:
    models_built: int
    output: str


def run_dbt(args: list[str], warehouse: Path, dbt_vars: dict | None = None,
            log: Callable[[str], None] | None = None, target: str = "duckdb") -> DbtResult:
    """Run dbt against `warehouse` and wait for it.

    The compiled config goes in as --vars, and dbt's target and logs sit beside the warehouse,
    so builds of different warehouses never share files.

    Parameters
    ----------
    args : list of str
        The dbt command and its flags, for example ``["build", "--full-refresh"]``.
    warehouse : Path
        The DuckDB file dbt writes (`VALUEMARTS_WAREHOUSE` for the project's profile); on Spark the
        landing file of the Spark warehouse, whose folder holds its tables
        (valuemarts.spark.session.SparkWarehouse.landing_db).
    dbt_vars : dict, optional
        The compiled config, passed as the `valuemarts` var.
    log : callable, optional
        Receives one line per model or seed as it finishes (status, name, materialization, its
        time), one per test that does not pass, and dbt's closing tally.
    target : str
        The profile's target: `duckdb`, or `spark`, which runs dbt in the Spark launcher
        (valuemarts.spark.launcher) on the warehouse's folder.

    Returns
    -------
    DbtResult
        Models (and seeds) built, and dbt's whole output.

    Raises
    ------
    ValueMartsError
        dbt failed; the message holds its error lines.

    Examples
    --------
    >>> run_dbt(["build"], Path("data/warehouse.duckdb.building"), compiled.dbt_vars, log=print)  # doctest: +SKIP
      1/149 OK    intermediate.int_clv__metric_config (table, 0.25s)
    """
    dbt = Path(sys.executable).parent / "dbt"
    warehouse = warehouse.absolute()
    project = project_dir()
    target_dir = dbt_target_dir(warehouse)
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PYTHONUNBUFFERED": "1"}  # lines as written
    if target == "spark":
        runner, cwd = [sys.executable, "-m", "valuemarts.spark.launcher", "--warehouse", str(warehouse.parent)], project
        env["VALUEMARTS_WAREHOUSE"] = str(warehouse)
    else:
        # dbt runs in the warehouse's folder and names it by its file name, so that the profile dbt
        # parses with is the same for every warehouse of that name, and they can share its parse
        # state (_parse_state_key).
        runner, cwd = [str(dbt)], warehouse.parent
        env["VALUEMARTS_WAREHOUSE"] = warehouse.name
    command = [*runner, "--no-use-colors", *args, "--target", target, "--project-dir", str(project),
               "--profiles-dir", str(project), "--target-path", str(target_dir), "--log-path", str(target_dir / "logs")]
    if dbt_vars is not None:
        # Unescaped unicode: dbt's YAML reader rejects the surrogate pairs JSON writes for emoji.
        command += ["--vars", json.dumps({"valuemarts": dbt_vars}, ensure_ascii=False)]
    parse_key = _parse_state_key(warehouse.name, target, dbt_vars)
    _seed_parse_state(target_dir, parse_key)
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True, preexec_fn=functools.partial(_die_with_parent, os.getpid()))
    lines: list[str] = []
    try:
        with proc.stdout:
            for line in proc.stdout:
                lines.append(line)
                progress = progress_line(line) if log is not None else None
                if progress is not None:
                    log(progress)
        proc.wait()
    except BaseException:
        _stop_group(proc)
        raise
    output = "".join(lines)
    if proc.returncode != 0:
        raise ValueMartsError("dbt " + args[0] + " failed:\n" + _errors_of(output))
    _keep_parse_state(target_dir, parse_key)
    models = sum(1 for line in lines if " OK created " in line or "OK loaded seed" in line)
    return DbtResult(models_built=models, output=output)


# dbt parses the whole project (about 7 s) when its target folder holds no parse state, which is
# every first build of a warehouse. The state fits any run with the same vars, target and
# warehouse file name: dbt checks those, and every project file's checksum, and reparses what
# differs. So runs share it through a small cache in the project's target folder (git-ignored),
# a file per key, the least recently used dropped beyond PARSE_CACHE_FILES.
PARSE_STATE = "partial_parse.msgpack"
PARSE_CACHE_FILES = 16


def parse_cache_dir() -> Path:
    return project_dir() / "target" / "parse_cache"


def _parse_state_key(warehouse_name: str, target: str, dbt_vars: dict | None) -> str:
    described = json.dumps([warehouse_name, target, dbt_vars], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(described.encode("utf-8")).hexdigest()[:24]


def _seed_parse_state(target_dir: Path, key: str) -> None:
    """Start a target folder without parse state from the cached one of its key, if any."""
    cached, state = parse_cache_dir() / f"{key}.msgpack", target_dir / PARSE_STATE
    if state.exists() or not cached.exists():
        return
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, state)
        os.utime(cached)  # recently used
    except OSError:
        pass  # a cache that can't be read or touched costs a full parse, nothing else


def _keep_parse_state(target_dir: Path, key: str) -> None:
    """Cache a successful run's parse state under its key (atomically: runs may share a key)."""
    state, cache = target_dir / PARSE_STATE, parse_cache_dir()
    if not state.exists():
        return
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with state.open("rb") as source, tempfile.NamedTemporaryFile(dir=cache, suffix=".tmp", delete=False) as copy:
            shutil.copyfileobj(source, copy)
        os.replace(copy.name, cache / f"{key}.msgpack")
        for stale in sorted(cache.glob("*.msgpack"), key=lambda f: f.stat().st_mtime)[:-PARSE_CACHE_FILES]:
            stale.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only project folder: every first build of a warehouse parses in full


# `12:01:02  18 of 149 OK created sql incremental model intermediate.int_ih__interactions .... [OK in 0.49s]`
_NODE_DONE = re.compile(r"(?P<index>\d+) of (?P<total>\d+) (?P<status>OK|PASS|WARN|FAIL|ERROR|SKIP)\b"
                        r"(?P<what>.*?)[ .]*\[(?P<result>[^\]]*)\]\s*$")
_SECONDS = re.compile(r"in (\d+(?:\.\d+)?s)")
_DONE = re.compile(r"Done\. (PASS=.*)$")
CLV_FILES = "CLV files: "  # how the line of the files a build wrote starts (valuemarts.clv_files.written_line)


def progress_line(line: str) -> str | None:
    """dbt's line for a finished node, condensed to one line; None for other lines, passed tests
    and hooks that went well. The Spark launcher's lines say the same of the Python models it runs,
    and it names the CLV files it wrote in a line of its own (valuemarts.spark.launcher), kept as it is.

    Examples
    --------
    >>> progress_line("12:01:02  18 of 149 OK created sql incremental model intermediate.int_ih__interactions "
    ...               ".... [OK in 0.49s]")
    '   18/149 OK    intermediate.int_ih__interactions (incremental, 0.49s)'
    >>> progress_line("12:01:03  19 of 149 PASS not_null_int_ih__interactions__row_key .... [PASS in 0.02s]") is None
    True
    """
    if line.startswith(CLV_FILES):
        return line.rstrip()
    done = _DONE.search(line)
    if done:
        return f"  dbt done: {done.group(1).strip()}"
    node = _NODE_DONE.search(line)
    if node is None:
        return None
    words = node["what"].split()
    if not words:
        return None
    if "model" in words:
        kind = words[words.index("model") - 1]  # the materialization: table, view, incremental
    elif "seed" in words:
        kind = "seed"
    elif "relation" in words:
        kind = "model"  # `SKIP relation marts.x`: upstream failed
    elif node["status"] in ("OK", "PASS"):
        return None  # a passed test, or an on-run hook that went well
    else:
        kind = "hook" if "hook:" in words else "test"
    seconds = _SECONDS.search(node["result"])
    timing = f", {seconds.group(1)}" if seconds else ""
    return f"  {node['index']:>{len(node['total'])}}/{node['total']} {node['status']:<5} {words[-1]} ({kind}{timing})"


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
