"""Where the project, the warehouse and compiled config live."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(os.environ.get("VALUEMARTS_PROJECT_DIR", Path(__file__).resolve().parent.parent))


def default_warehouse() -> Path:
    env = os.environ.get("VALUEMARTS_WAREHOUSE")
    return Path(env) if env else PROJECT_DIR / "data" / "warehouse.duckdb"


def compiled_dir(warehouse: Path) -> Path:
    """Compiled vars and report specs sit beside the warehouse they describe."""
    return warehouse.parent / "compiled"
