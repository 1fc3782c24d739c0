"""Landing tables: raw rows with lineage, and a log of every file loaded.

A file is loaded once per content: the same path with the same SHA-256 is skipped, new content
at a known path replaces that file's rows. Each file is validated before any row lands, so a
bad file names itself and nothing of it is kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from valuemarts.config import schema
from valuemarts.errors import InputFileError
from valuemarts.ingest.discover import DiscoveredFile
from valuemarts.ingest.readers import ROW_NUMBER, read_into

LANDING_SCHEMA = "landing"
LOAD_LOG = f"{LANDING_SCHEMA}._load_log"
BUILDS = f"{LANDING_SCHEMA}._builds"
_LINEAGE_TYPES = {"_file_path": "VARCHAR", "_file_group": "VARCHAR", "_file_seq": "BIGINT",
                  "_load_id": "BIGINT", "_row_in_file": "BIGINT"}
_NUMERIC = {"DOUBLE", "BIGINT", "INTEGER", "FLOAT", "DECIMAL", "HUGEINT", "SMALLINT", "TINYINT", "UBIGINT"}
_PEGA_TIMESTAMP = ("coalesce(try_strptime(cast({c} as varchar), '%Y%m%dT%H%M%S.%g %Z'), "
                   "try_strptime(cast({c} as varchar), '%Y%m%dT%H%M%S %Z'), "
                   "try_cast(cast({c} as varchar) as timestamptz))")


@dataclass(frozen=True)
class SourceRules:
    """What a source's files must satisfy, from the compiled config's ih/holdings section."""

    name: str                       # "ih" or "holdings"
    file_type: str
    hive_partitioning: bool
    column_types: dict[str, str]
    default_columns: frozenset[str]
    required_columns: tuple[str, ...]
    drop_columns: frozenset[str]

    @property
    def table(self) -> str:
        return f"{LANDING_SCHEMA}.{self.name}_raw"


@dataclass
class FileLoad:
    path: str
    group: str
    status: str   # new, replaced, skipped
    rows_read: int
    file_seq: int | None


def ensure_landing(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {LANDING_SCHEMA}")
    con.execute(f"""create table if not exists {LOAD_LOG} (
        load_id bigint, file_seq bigint, source varchar, file_path varchar, file_group varchar,
        file_hash varchar, size_bytes bigint, rows_read bigint, status varchar, loaded_at timestamptz)""")
    for source in ("ih", "holdings"):
        cols = ", ".join(f"{n} {t}" for n, t in _LINEAGE_TYPES.items())
        con.execute(f"create table if not exists {LANDING_SCHEMA}.{source}_raw ({cols})")


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    (value,) = con.execute(f"select coalesce(max(load_id), 0) + 1 from {LOAD_LOG}").fetchone()
    return int(value)


def load_files(con: duckdb.DuckDBPyConnection, files: list[DiscoveredFile], rules: SourceRules,
               load_id: int) -> list[FileLoad]:
    results = []
    for file in files:
        digest = file_sha256(file.path)
        previous = con.execute(
            f"select file_hash from {LOAD_LOG} where source = ? and file_path = ? "
            "order by load_id desc, file_seq desc limit 1", [rules.name, str(file.path)]).fetchone()
        if previous is not None and previous[0] == digest:
            results.append(FileLoad(str(file.path), file.group, "skipped", 0, None))
            continue
        rows = _stage_file(con, file, rules)
        status = "new" if previous is None else "replaced"
        if status == "replaced":
            con.execute(f"delete from {rules.table} where _file_path = ?", [str(file.path)])
        (file_seq,) = con.execute(f"select coalesce(max(file_seq), 0) + 1 from {LOAD_LOG}").fetchone()
        _append(con, rules, file, file_seq, load_id)
        con.execute(f"insert into {LOAD_LOG} values (?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
                    [load_id, file_seq, rules.name, str(file.path), file.group, digest,
                     file.path.stat().st_size, rows, status])
        results.append(FileLoad(str(file.path), file.group, status, rows, file_seq))
    con.execute("drop table if exists _incoming")
    return results


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _stage_file(con: duckdb.DuckDBPyConnection, file: DiscoveredFile, rules: SourceRules) -> int:
    """Read into `_incoming` and validate: rows present, required columns, known types."""
    rows = read_into(con, file.path, rules.file_type, "_incoming", rules.hive_partitioning)
    if rows == 0:
        raise InputFileError(str(file.path), "the file holds no rows")
    raw_names = [n for n in _columns(con, "_incoming") if n != ROW_NUMBER]
    renamed = schema.renamed_columns(raw_names)
    present = set(renamed.values()) | rules.default_columns
    missing = [c for c in rules.required_columns if c not in present]
    if missing:
        raise InputFileError(str(file.path), f"missing required column(s) {', '.join(missing)} "
                                             f"(after renaming px/py/pz names); columns found: {', '.join(raw_names)}")
    for raw, name in renamed.items():
        expected = rules.column_types.get(name)
        if expected is not None:
            _check_type(con, file.path, raw, expected)
    return rows


def _check_type(con: duckdb.DuckDBPyConnection, path: Path, raw: str, expected: str) -> None:
    column = _quote(raw)
    if expected == "TIMESTAMPTZ":
        bad = f"{_PEGA_TIMESTAMP.format(c=column)} is null"
        what = "a Pega timestamp like 20241010T145658.123 GMT"
    elif expected in _NUMERIC:
        bad = f"try_cast({column} as {expected}) is null"
        what = "an integer" if expected == "BIGINT" else "a number"
    else:
        return
    # A JSON field holding numbers and strings reads as JSON: show the value, not its JSON text.
    (read_type,) = con.execute("select column_type from (describe _incoming) where column_name = ?", [raw]).fetchone()
    shown = f"json_extract_string({column}, '$')" if read_type == "JSON" else f"cast({column} as varchar)"
    row = con.execute(f"select {ROW_NUMBER}, {shown} from _incoming "
                      f"where {column} is not null and {bad} order by {ROW_NUMBER} limit 1").fetchone()
    if row is not None:
        raise InputFileError(str(path), f"expected {what}, got {row[1]!r}", row=int(row[0]), column=raw)


def _append(con: duckdb.DuckDBPyConnection, rules: SourceRules, file: DiscoveredFile, file_seq: int,
            load_id: int) -> None:
    """Insert by name, widening the landing table for new columns or conflicting types."""
    incoming = dict(con.execute("select column_name, column_type from (describe _incoming)").fetchall())
    landing = {n: t for n, t in con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [LANDING_SCHEMA, f"{rules.name}_raw"]).fetchall()}
    keep = [n for n in incoming if n != ROW_NUMBER and n not in rules.drop_columns and n not in _LINEAGE_TYPES]
    for name in keep:
        new_type = incoming[name]
        if name not in landing:
            con.execute(f"alter table {rules.table} add column {_quote(name)} {new_type}")
        elif landing[name] != new_type:
            wider = _wider_type(landing[name], new_type)
            if wider != landing[name]:
                con.execute(f"alter table {rules.table} alter {_quote(name)} type {wider}")
    columns = ", ".join(_quote(n) for n in keep)
    con.execute(
        f"insert into {rules.table} by name select {columns}, "
        f"? as _file_path, ? as _file_group, ? as _file_seq, ? as _load_id, {ROW_NUMBER} as _row_in_file "
        f"from _incoming", [str(file.path), file.group, file_seq, load_id])


def _wider_type(current: str, new: str) -> str:
    if current.split("(")[0] in _NUMERIC and new.split("(")[0] in _NUMERIC:
        return "DOUBLE"
    return "VARCHAR"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"select column_name from (describe {table})").fetchall()]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def landing_columns(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """Raw column names loaded so far for `source` (lineage excluded)."""
    rows = con.execute("select column_name from information_schema.columns where table_schema = ? "
                       "and table_name = ? order by ordinal_position", [LANDING_SCHEMA, f"{source}_raw"]).fetchall()
    return [r[0] for r in rows if r[0] not in _LINEAGE_TYPES]


def loaded_column_sets(con: duckdb.DuckDBPyConnection) -> tuple[set[str] | None, set[str] | None]:
    """Staged (renamed) column names of the IH and holdings data loaded so far; None for a source
    with no data yet, which the compiler then checks against the standard Pega columns."""
    found = [set(schema.renamed_columns(landing_columns(con, s)).values()) or None for s in ("ih", "holdings")]
    return found[0], found[1]
