"""Wall time and peak memory of a command, its children included (dbt runs in a child)."""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from valuemarts.errors import ValueMartsError
from valuemarts.paths import project_dir
from valuemarts.tables import write_rows


@dataclass
class Measurement:
    seconds: float
    peak_mb: float


def measure(command: list[str]) -> Measurement:
    """Run `command` under a fresh Python wrapper whose RUSAGE_CHILDREN is exactly that command's tree."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "valuemarts.bench.measure", *command],
                          capture_output=True, text=True)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise ValueMartsError(f"benchmark step failed: {' '.join(command)}\n{proc.stderr[-2000:]}")
    peak_kb = json.loads(proc.stdout.strip().splitlines()[-1])["peak_kb"]
    return Measurement(seconds=seconds, peak_mb=peak_kb / 1024)


def write_result(name: str, columns: list[str], rows: list[list], extra: dict) -> Path:
    write_rows(columns, rows, "table")
    out = project_dir() / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "benchmark": name,
        "machine": {"cpus": _cpus(), "platform": platform.platform(), "python": platform.python_version()},
        "rows": [dict(zip(columns, r)) for r in rows],
        **extra,
    }, indent=2))
    print(f"wrote {out}")
    return out


def _cpus() -> int:
    import os
    return os.cpu_count() or 0


if __name__ == "__main__":
    # Wrapper mode: run the command, then report the peak RSS of its whole process tree.
    code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
    print(json.dumps({"peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
    sys.exit(code)
