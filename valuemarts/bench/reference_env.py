"""The reference system's own virtual environment, for `bench compare`: never a valuemarts dependency.

The reference (`cdhdashboard` on PyPI) leaves its dependencies unbounded (weakness 17), and
today's newest releases break it: DuckDB 2 dropped `DuckDBPyConnection.pl()`, which its load step
calls, and polars 2 removed `Series.replace(default=...)`, which its RFM segments use. So the
benchmark installs the versions it was measured with, pinned, into `bench/.reference-venv`, and
reuses that environment while the pins are unchanged.
"""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

from valuemarts.errors import ValueMartsError
from valuemarts.paths import project_dir

REQUIREMENTS = (
    "cdhdashboard==1.0.5",
    "polars==1.44.2",  # < 2: see the module docstring
    "duckdb==1.5.6",  # < 2: see the module docstring
    "polars-ds==0.13.0",
    "numpy==2.3.5",
    "datasketches==5.2.0",
    "pandas==3.1.1",
    "scipy==1.17.1",
    "scikit-learn==1.9.1",
    "lifetimes==0.11.3",
    "streamlit==1.67.0",
    "tomlkit==0.15.2",
)
PIPELINE = Path(__file__).with_name("reference_pipeline.py")
"""The script the reference's Python runs (it imports nothing from valuemarts)."""


def reference_venv() -> Path:
    return project_dir() / "bench" / ".reference-venv"


def ensure_reference_env(folder: Path | None = None) -> Path:
    """The Python of the reference's environment, created and installed when absent or when its
    pins differ from REQUIREMENTS (a marker file in the environment records them).

    Raises
    ------
    ValueMartsError
        The environment could not be created or pip failed (its last output lines are quoted).
    """
    folder = folder or reference_venv()
    python = folder / "bin" / "python"
    marker = folder / "valuemarts-requirements.txt"
    wanted = "\n".join(REQUIREMENTS) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    print(f"installing the reference system into {folder} (one time): {' '.join(REQUIREMENTS)}", flush=True)
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           *REQUIREMENTS], capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise ValueMartsError(f"installing the reference into {folder} failed:\n{tail}")
    marker.write_text(wanted)
    return python
