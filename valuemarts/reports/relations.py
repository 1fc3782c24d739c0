"""Where a dbt model lives in a warehouse, and what its docs say, from the manifest of the build
that made it.

Readers outside dbt name models, never schemas: dbt's manifest.json beside the warehouse
(`valuemarts build` writes it there) maps a model to its schema and table, so a model moved to
another schema or aliased needs no change here. A warehouse built by plain dbt has its manifest
in the project's target/ instead, which may belong to another warehouse: then the model is looked
for in its default schema (marts; seeds in reference).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Callable, Mapping

from valuemarts.dbt_runner import dbt_target_dir
from valuemarts.sql_names import quote_ident, quote_spark_ident

PROJECT = "valuemarts"


def relation_of(model: str, warehouse: Path | None = None, default_schema: str = "marts",
                engine: str = "duckdb") -> str:
    """The quoted `schema.table` of a dbt model (or seed) in a warehouse.

    Parameters
    ----------
    model : str
        The dbt model or seed name, e.g. `mart_engagement__state`.
    warehouse : Path, optional
        The warehouse file; its build's manifest.json says where the model is.
    default_schema : str
        The schema assumed without a manifest, or when the manifest doesn't know the model.
    engine : str
        duckdb, or spark (quoted for Spark SQL; `warehouse` is then the Spark warehouse's
        landing file, beside which its build's manifest is).

    Returns
    -------
    str
        A relation name for the warehouse's own connection (without the database, which is named
        after the file that was built, not the one that is read).
    """
    found = _manifest_models(warehouse).get(model)
    schema, table = (found.schema, found.table) if found else (default_schema, model)
    quote = quote_spark_ident if engine == "spark" else quote_ident
    return f"{quote(schema)}.{quote(table)}"


def model_grains(warehouse: Path) -> dict[str, str]:
    """`meta.grain` of each model and seed, from the manifest of the warehouse's build ({} without one)."""
    return {name: found.grain for name, found in _manifest_models(warehouse).items()}


def relation_docs(warehouse: Path) -> dict[tuple[str, str], ManifestModel]:
    """Each model and seed by its (schema, table), lower-case, with its grain and dbt descriptions.

    Keyed by where the model is rather than by its name, for readers that start from the tables
    they find in the warehouse (`valuemarts ask` describes the marts to a model endpoint). {}
    without a manifest.
    """
    return {(found.schema.lower(), found.table.lower()): found for found in _manifest_models(warehouse).values()}


def relation_resolver(warehouse: Path | None, engine: str = "duckdb") -> Callable[..., str]:
    """`relation_of` bound to one warehouse, for code that looks up several models."""
    return partial(relation_of, warehouse=warehouse, engine=engine)


@dataclass(frozen=True)
class ManifestModel:
    """A model or seed as its build's manifest has it: where it is, its grain and its docs.

    `columns` maps lower-case column names to their descriptions (only the documented columns).
    """

    schema: str
    table: str
    grain: str
    description: str
    columns: Mapping[str, str]


def _manifest_models(warehouse: Path | None) -> dict[str, ManifestModel]:
    if warehouse is None:
        return {}
    manifest = dbt_target_dir(warehouse) / "manifest.json"
    try:
        stat = manifest.stat()
    except FileNotFoundError:
        return {}
    return _read_manifest(manifest, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read_manifest(manifest: Path, mtime_ns: int, size: int) -> dict[str, ManifestModel]:
    """Model and seed name -> where it is, its grain and docs; cached per file version (reports run often)."""
    nodes = json.loads(manifest.read_text())["nodes"]
    return {
        node["name"]: ManifestModel(
            node["schema"], node.get("alias") or node["name"], node.get("meta", {}).get("grain", ""),
            node.get("description") or "",
            {name.lower(): column["description"]
             for name, column in node.get("columns", {}).items() if column.get("description")})
        for node in nodes.values()
        if node.get("package_name") == PROJECT and node.get("resource_type") in ("model", "seed")
    }
