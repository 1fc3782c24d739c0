"""Versioned configs: every config a build or load uses, numbered per config name.

A version is the exact TOML text (so a restore gives back the file byte for byte); its content
hash decides whether a config is new, so building twice with the same file makes one version.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import polars as pl

from valuemarts.errors import ValueMartsError
from valuemarts.history.store import frame, now, opened_history, transaction


def record_config(con: sqlite3.Connection, config_name: str, toml_text: str) -> int:
    """The version of `toml_text` under `config_name`: the existing one when the same text was
    recorded before, else the next number.

    Examples
    --------
    >>> record_config(con, "Demo", text)  # doctest: +SKIP
    1
    """
    content_hash = hashlib.sha256(toml_text.encode()).hexdigest()
    with transaction(con):  # two builds numbering at once must not take the same version
        found = con.execute("select version from config_versions where config_name = ? and content_hash = ?",
                            (config_name, content_hash)).fetchone()
        if found is None:
            (latest,) = con.execute("select coalesce(max(version), 0) from config_versions where config_name = ?",
                                    (config_name,)).fetchone()
            found = (latest + 1,)
            con.execute("insert into config_versions values (?, ?, ?, ?, ?)",
                        (config_name, found[0], content_hash, toml_text, now()))
    return found[0]


def config_versions(warehouse: Path) -> pl.DataFrame:
    """Every recorded version: name, number, content hash, when first used, and the runs that used it."""
    with opened_history(warehouse) as con:
        return frame(con, """
        select v.config_name, v.version, v.content_hash, v.created_at,
               count(r.run_id) as runs, max(r.started_at) as last_used_at
        from config_versions as v
        left join runs as r on r.config_name = v.config_name and r.config_version = v.version
        group by v.config_name, v.version, v.content_hash, v.created_at
        order by v.config_name, v.version""")


def config_text(warehouse: Path, version: int, config_name: str | None = None) -> str:
    """The exact TOML of `version` (of `config_name`; None: the name of the most recent version).

    Raises
    ------
    ValueMartsError
        No such version, or no configs recorded yet.
    """
    with opened_history(warehouse) as con:
        name = config_name if config_name is not None else latest_config_name(con)
        row = con.execute("select toml from config_versions where config_name = ? and version = ?",
                          (name, version)).fetchone()
        known = [v for (v,) in con.execute("select version from config_versions where config_name = ? order by 1",
                                           (name,))]
    if row is None:
        raise ValueMartsError(f"config {name!r} has no version {version} (versions: {known or 'none'})")
    return row[0]


def latest_config_name(con: sqlite3.Connection) -> str:
    """The config name of the most recently recorded version: what `config show 3` means."""
    row = con.execute("select config_name from config_versions order by created_at desc, rowid desc limit 1").fetchone()
    if row is None:
        raise ValueMartsError("no config versions yet: a build or load records the config it uses")
    return row[0]


def config_diff(old_toml: str, new_toml: str) -> pl.DataFrame:
    """The differences of two TOML texts by key path, not by line: one row per key added,
    removed or changed, with both values as TOML-like text.

    Comments, key order and layout are not differences; a value that moved from an inline
    table to a section is the same value.

    Examples
    --------
    >>> config_diff('[ih]\\nfile_type = "zip"\\n', '[ih]\\nfile_type = "parquet"\\n').row(0)
    ('ih.file_type', 'changed', '"zip"', '"parquet"')
    """
    old, new = _flat(_parsed(old_toml, "the first")), _flat(_parsed(new_toml, "the second"))
    rows = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            rows.append((key, "removed", _shown(old[key]), None))
        elif key not in old:
            rows.append((key, "added", None, _shown(new[key])))
        elif old[key] != new[key]:
            rows.append((key, "changed", _shown(old[key]), _shown(new[key])))
    return pl.DataFrame(rows, schema={"key": pl.String, "change": pl.String, "old": pl.String, "new": pl.String},
                        orient="row")


def _parsed(text: str, which: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueMartsError(f"{which} config is not valid TOML: {exc}") from exc


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables flattened to dotted key paths (quoted where a key holds a dot or space)."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        path = prefix + (key if key.replace("_", "").replace("-", "").isalnum() else _quoted(key))
        if isinstance(value, dict) and value:
            flat.update(_flat(value, path + "."))
        else:
            flat[path] = value
    return flat


def _quoted(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_shown(v)}" for k, v in value.items()) + "}"
    return str(value)
