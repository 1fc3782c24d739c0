"""Where the project, the warehouse and compiled config live."""

from __future__ import annotations

import os
from pathlib import Path

from valuemarts.errors import ValueMartsError

_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def project_dir() -> Path:
    """The dbt project valuemarts works in: $VALUEMARTS_PROJECT_DIR (the CLI's --project-dir sets
    it), else the folder the user runs in or the nearest parent holding valuemarts'
    dbt_project.yml, else the clone the package was installed from. The compiled config and the
    default warehouse belong to that project, so two clones sharing one venv stay apart."""
    env = os.environ.get("VALUEMARTS_PROJECT_DIR")
    if env:
        return Path(env).resolve()
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if _is_valuemarts_project(folder):
            return folder
    return Path(__file__).resolve().parent.parent


def _is_valuemarts_project(folder: Path) -> bool:
    project = folder / "dbt_project.yml"
    try:
        return project.is_file() and any(line.strip() == "name: valuemarts" for line in project.read_text().splitlines())
    except OSError:
        return False



def default_warehouse() -> Path:
    env = os.environ.get("VALUEMARTS_WAREHOUSE")
    return Path(env) if env else project_dir() / "data" / "warehouse.duckdb"


def default_spark_warehouse() -> Path:
    """The Spark warehouse folder of `--target spark` without --warehouse."""
    return project_dir() / "data" / "spark"


def compiled_dir(warehouse: Path) -> Path:
    """Compiled vars and report specs sit beside the warehouse they describe."""
    return warehouse.parent / "compiled"


def check_warehouse_path(warehouse: Path) -> None:
    """Refuse a --warehouse that is a folder or an existing file that is not a DuckDB database,
    before anything opens it (DuckDB would fail with a traceback-sized message)."""
    if warehouse.is_dir():
        raise ValueMartsError(f"{warehouse}: is a folder; --warehouse takes the path of a DuckDB file")
    if warehouse.is_file():
        with warehouse.open("rb") as f:
            header = f.read(12)
        if len(header) > 0 and header[8:12] != _DUCKDB_MAGIC:
            raise ValueMartsError(f"{warehouse}: not a DuckDB database file; --warehouse takes a warehouse "
                                  "built by `valuemarts build` (or a new path)")
