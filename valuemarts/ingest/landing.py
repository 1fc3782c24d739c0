"""Landing tables: raw rows with lineage, and a log of every file loaded.

A file is loaded once per content: the same path with the same SHA-256 is skipped, new content
at a known path replaces that file's rows. Each file is validated before any row lands, so a
bad file names itself and nothing of it is kept: validation makes every check staging and the
config's filter and derived columns would make, on the file's rows as staging will see them, so
dbt never meets a value it can't convert.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

from valuemarts.config import schema
from valuemarts.config.typecheck import derived_select_list
from valuemarts.errors import InputFileError
from valuemarts.ingest.discover import DiscoveredFile
from valuemarts.ingest.readers import ROW_NUMBER, first_line, read_into, row_note
from valuemarts.sql_names import quote_ident

LANDING_SCHEMA = "landing"
LOAD_LOG = f"{LANDING_SCHEMA}._load_log"
BUILDS = f"{LANDING_SCHEMA}._builds"     # written by dbt on each successful run (macros/warehouse_guard.sql)
INPUTS = f"{LANDING_SCHEMA}._inputs"     # the paths each load was given, reused when none are given
_LINEAGE_TYPES = {"_file_path": "VARCHAR", "_file_group": "VARCHAR", "_file_seq": "BIGINT",
                  "_load_id": "BIGINT", "_row_in_file": "BIGINT"}
_NUMERIC = {"DOUBLE", "BIGINT", "INTEGER", "FLOAT", "DECIMAL", "HUGEINT", "SMALLINT", "TINYINT", "UBIGINT"}
# macros/timestamps.sql parse_pega_timestamp
_PEGA_TIMESTAMP = ("coalesce(try_strptime(cast({c} as varchar), '%Y%m%dT%H%M%S.%g %Z'), "
                   "try_strptime(cast({c} as varchar), '%Y%m%dT%H%M%S %Z'), "
                   "try_cast(cast({c} as varchar) as timestamptz))")
# The fields stg_pega__interactions derives, for a filter or derived column that reads them.
_UTC_OUTCOME = "timezone('UTC', \"OutcomeTime\")"
_IH_STAGED_FIELDS = {
    "ActionID": "coalesce(\"Issue\", '') || '/' || coalesce(\"Group\", '') || '/' || coalesce(\"Name\", '')",
    "Day": f"cast({_UTC_OUTCOME} as date)",
    "Month": f"strftime({_UTC_OUTCOME}, '%Y-%m')",
    "Year": f"cast(year({_UTC_OUTCOME}) as smallint)",
    "Quarter": f"cast(year({_UTC_OUTCOME}) as varchar) || '_Q' || cast(quarter({_UTC_OUTCOME}) as varchar)",
    "ResponseTime": "(epoch_ms(\"OutcomeTime\") - epoch_ms(\"DecisionTime\")) / 1000.0",
}
# Sources whose filter reads the derived columns (int_holdings__holdings); elsewhere the filter
# comes first and derived columns are computed on the rows it keeps (int_ih__interactions).
_FILTER_AFTER_DERIVED = frozenset({"holdings"})
# Views of `_incoming`: as it will land, as staging sees it, filtered, with derived columns.
_LANDED, _STAGED = "_incoming_landed", "_incoming_staged"
_FILTERED, _DERIVED = "_incoming_filtered", "_incoming_derived"
# A failing expression's NULL rows re-evaluated one by one, at most, to find the row that raises.
_CANDIDATE_ROWS = 50
# A single-quoted SQL string, or a double-quoted identifier (group 1): compiled SQL quotes every column.
_STRING_OR_IDENTIFIER = re.compile("'(?:[^']|'')*'" + '|"((?:[^"]|"")*)"')


@dataclass(frozen=True)
class SourceRules:
    """What a source's files must satisfy, from the compiled config's ih/holdings section."""

    name: str                       # "ih" or "holdings"
    file_type: str
    hive_partitioning: bool
    column_types: dict[str, str]
    required_columns: tuple[str, ...]
    drop_columns: frozenset[str]
    # The compiled side's `default_values` (column -> SQL literal), `derived_columns`
    # ({name, sql} each) and `filter_sql`: the loader evaluates them as the dbt models will.
    default_values: dict[str, str] = field(default_factory=dict)
    derived_columns: tuple[dict[str, str], ...] = ()
    filter_sql: str | None = None

    @classmethod
    def from_compiled(cls, name: str, side: dict) -> SourceRules:
        """The rules of the compiled config's `ih` or `holdings` section (`dbt_vars[name]`)."""
        return cls(
            name=name,
            file_type=side["file_type"],
            hive_partitioning=side["hive_partitioning"],
            column_types=side["column_types"],
            required_columns=tuple(side.get("required_columns", ())),
            drop_columns=frozenset(schema.DROP_IH_COLUMNS) if name == "ih" else frozenset(),
            default_values=side["default_values"],
            derived_columns=tuple(side["derived_columns"]),
            filter_sql=side["filter_sql"],
        )

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
    con.execute(f"create table if not exists {INPUTS} (load_id bigint, recorded_at timestamptz, "
                "ih_paths varchar[], holdings_paths varchar[])")
    con.execute(f"""create table if not exists {LOAD_LOG} (
        load_id bigint, file_seq bigint, source varchar, file_path varchar, file_group varchar,
        file_hash varchar, size_bytes bigint, rows_read bigint, status varchar, loaded_at timestamptz)""")
    for source in ("ih", "holdings"):
        cols = ", ".join(f"{n} {t}" for n, t in _LINEAGE_TYPES.items())
        con.execute(f"create table if not exists {LANDING_SCHEMA}.{source}_raw ({cols})")


def record_input_paths(con: duckdb.DuckDBPyConnection, load_id: int, ih_paths: list[str],
                       holdings_paths: list[str]) -> None:
    con.execute(f"insert into {INPUTS} values (?, now(), ?, ?)", [load_id, ih_paths, holdings_paths])


def last_input_paths(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """The IH and holdings paths of the last load; empty lists for a warehouse that has none."""
    try:
        row = con.execute(f"select ih_paths, holdings_paths from {INPUTS} order by load_id desc limit 1").fetchone()
    except duckdb.CatalogException:
        return [], []
    return (list(row[0]), list(row[1])) if row else ([], [])


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    (value,) = con.execute(f"select coalesce(max(load_id), 0) + 1 from {LOAD_LOG}").fetchone()
    return int(value)


def load_files(con: duckdb.DuckDBPyConnection, files: list[DiscoveredFile], rules: SourceRules,
               load_id: int, log: Callable[[str], None] | None = None) -> list[FileLoad]:
    """Land each new or changed file; `log` gets a line per file (status and rows) as it goes."""
    results = []
    for file in files:
        digest = file_sha256(file.path)
        previous = con.execute(
            f"select file_hash from {LOAD_LOG} where source = ? and file_path = ? "
            "order by load_id desc, file_seq desc limit 1", [rules.name, str(file.path)]).fetchone()
        if previous is not None and previous[0] == digest:
            results.append(FileLoad(str(file.path), file.group, "skipped", 0, None))
            if log:
                log(f"  {file.path.name}: skipped (already loaded)")
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
        if log:
            log(f"  {file.path.name}: {rows:,} rows ({status})")
    con.execute("drop table if exists _incoming")
    return results


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _stage_file(con: duckdb.DuckDBPyConnection, file: DiscoveredFile, rules: SourceRules) -> int:
    """Read into `_incoming` and validate: rows present, required columns, known types, and the
    config's filter and derived columns."""
    rows = read_into(con, file.path, rules.file_type, "_incoming", rules.hive_partitioning)
    if rows == 0:
        raise InputFileError(str(file.path), "the file holds no rows")
    raw_names = [n for n in _columns(con, "_incoming") if n != ROW_NUMBER]
    landed = _landed_order(con, rules, raw_names)
    renamed = schema.renamed_columns(_staged_raw_names(rules, landed))
    own = {raw: name for raw, name in renamed.items() if raw in raw_names}
    present = set(own.values()) | set(rules.default_values)
    missing = [c for c in rules.required_columns if c not in present]
    if missing:
        raise InputFileError(str(file.path), f"missing required column(s) {', '.join(missing)} "
                                             f"(after renaming px/py/pz names); columns found: {', '.join(raw_names)}")
    typed = {raw: rules.column_types[name] for raw, name in own.items() if name in rules.column_types}
    _json_as_text(con, list(typed))
    origin = _Origin(file.path, {name: raw for raw, name in renamed.items()}, row_note(file.path, rules.file_type))
    for raw, expected in typed.items():
        _check_type(con, origin, raw, expected)
    if rules.derived_columns or rules.filter_sql:
        try:
            _create_staged_view(con, rules, landed, renamed)
            _check_config_expressions(con, rules, origin)
        finally:
            for view in (_DERIVED, _FILTERED, _STAGED, _LANDED):
                con.execute(f"drop view if exists {view}")
    return rows


@dataclass(frozen=True)
class _Origin:
    """Where a bad value comes from: the file, each staged column's raw name, and what its row
    numbers count."""

    path: Path
    raw_of: dict[str, str]
    row_note: str

    def error(self, message: str, row: int | None = None, column: str | None = None) -> InputFileError:
        return InputFileError(str(self.path), message + (self.row_note if row is not None else ""), row=row,
                              column=None if column is None else self.raw_of.get(column, column))


def _landed_order(con: duckdb.DuckDBPyConnection, rules: SourceRules, raw_names: list[str]) -> list[str]:
    """Raw columns as the landing table will hold them once this file is in: its columns, then
    the new ones `_append` adds. Staging renames over all of them, not just this file's."""
    landing = list(_landing_types(con, rules.name))
    return landing + [n for n in raw_names if n not in landing and n not in rules.drop_columns
                      and n not in _LINEAGE_TYPES]


def _staged_raw_names(rules: SourceRules, landed: list[str]) -> list[str]:
    """The raw columns staging keeps: not the dropped ones, nor on IH a raw column named like a
    field staging derives itself (a hive partition `Day`), as the compiled ih drop_columns say."""
    dropped = rules.drop_columns | (frozenset(schema.IH_DERIVED_COLUMNS) if rules.name == "ih" else frozenset())
    return [n for n in landed if n not in dropped]


def _json_as_text(con: duckdb.DuckDBPyConnection, typed_raw_names: list[str]) -> None:
    """A JSON field holding both strings and numbers reads as type JSON, whose text keeps a
    string's quotes: staging's casts would see '"Web"', and '"20241010T145658.123 GMT"' is no
    timestamp. Such typed columns land as their values' text, as a field of strings alone does."""
    types = dict(con.execute("select column_name, column_type from (describe _incoming)").fetchall())
    replaced = [f"json_extract_string({quote_ident(r)}, '$') as {quote_ident(r)}"
                for r in typed_raw_names if types[r] == "JSON"]
    if replaced:
        con.execute(f"create or replace temp table _incoming as "
                    f"select * replace ({', '.join(replaced)}) from _incoming")


def _check_type(con: duckdb.DuckDBPyConnection, origin: _Origin, raw: str, expected: str) -> None:
    column = quote_ident(raw)
    if expected == "TIMESTAMPTZ":
        bad = f"{_PEGA_TIMESTAMP.format(c=column)} is null"
        what = "a Pega timestamp like 20241010T145658.123 GMT"
    elif expected in _NUMERIC:
        bad = f"try_cast({column} as {expected}) is null"
        what = "an integer" if expected == "BIGINT" else "a number"
    else:
        return
    row = con.execute(f"select {ROW_NUMBER}, cast({column} as varchar) from _incoming "
                      f"where {column} is not null and {bad} order by {ROW_NUMBER} limit 1").fetchone()
    if row is not None:
        raise InputFileError(str(origin.path), f"expected {what}, got {row[1]!r}{origin.row_note}",
                             row=int(row[0]), column=raw)


def _create_staged_view(con: duckdb.DuckDBPyConnection, rules: SourceRules, landed: list[str],
                        renamed: dict[str, str]) -> None:
    """`_incoming` as stg_pega__* will see its rows: columns other files brought NULL, each
    column renamed, typed and defaulted, and on IH the fields staging derives."""
    incoming = dict(con.execute("select column_name, column_type from (describe _incoming)").fetchall())
    landing = _landing_types(con, rules.name)
    columns = [quote_ident(n) if n in incoming else f"cast(null as {landing[n]}) as {quote_ident(n)}" for n in landed]
    con.execute(f"create or replace temp view {_LANDED} as select {', '.join(columns + [ROW_NUMBER])} from _incoming")
    staged = f"select {', '.join(_staged_select(rules, renamed))} from {_LANDED}"
    if rules.name == "ih":
        fields = ", ".join(f"{sql} as {quote_ident(name)}" for name, sql in _IH_STAGED_FIELDS.items())
        staged = f"select *, {fields} from ({staged})"
    con.execute(f"create or replace temp view {_STAGED} as {staged}")


def _staged_select(rules: SourceRules, renamed: dict[str, str]) -> list[str]:
    """The select list of macro staged_select_list: every kept column renamed, typed and
    defaulted, then typed or defaulted columns the data lacks, then the row number."""
    items = []
    for raw, name in renamed.items():
        expr = quote_ident(raw)
        if name in rules.column_types:
            data_type = rules.column_types[name]
            expr = _PEGA_TIMESTAMP.format(c=expr) if data_type == "TIMESTAMPTZ" else f"cast({expr} as {data_type})"
        if name in rules.default_values:
            expr = f"coalesce({expr}, {rules.default_values[name]})"
        items.append(f"{expr} as {quote_ident(name)}")
    emitted = set(renamed.values())
    for name, data_type in rules.column_types.items():
        if name not in emitted:
            items.append(f"cast({rules.default_values.get(name, 'null')} as {data_type}) as {quote_ident(name)}")
            emitted.add(name)
    items += [f"{value} as {quote_ident(name)}" for name, value in rules.default_values.items() if name not in emitted]
    return items + [ROW_NUMBER]


def _check_config_expressions(con: duckdb.DuckDBPyConnection, rules: SourceRules, origin: _Origin) -> None:
    """Evaluate the config's filter and derived columns on the staged rows, in the order the
    intermediate models apply them, so a value they can't convert is reported here with its row
    rather than failing dbt with a bare Conversion Error. One pass per expression."""
    try:
        if rules.name in _FILTER_AFTER_DERIVED:
            _check_derived_columns(con, rules, _STAGED, origin)
            derived = [(d["name"], d["sql"]) for d in rules.derived_columns]
            con.execute(f"create or replace temp view {_DERIVED} as "
                        f"select {derived_select_list(derived, _columns(con, _STAGED))} from {_STAGED}")
            if rules.filter_sql:
                _evaluate(con, _DERIVED, "filter", rules.filter_sql, origin)
        elif rules.filter_sql:
            _evaluate(con, _STAGED, "filter", rules.filter_sql, origin)
            con.execute(f"create or replace temp view {_FILTERED} as "
                        f"select * from {_STAGED} where ({rules.filter_sql})")
            _check_derived_columns(con, rules, _FILTERED, origin)
        else:
            _check_derived_columns(con, rules, _STAGED, origin)
    except duckdb.BinderException:
        return  # a column no loaded file has, or a type mismatch: the compile after loading names its config key


def _check_derived_columns(con: duckdb.DuckDBPyConnection, rules: SourceRules, view: str, origin: _Origin) -> None:
    for column in rules.derived_columns:
        _evaluate(con, view, f"derived column {column['name']}", column["sql"], origin)


def _evaluate(con: duckdb.DuckDBPyConnection, view: str, what: str, sql: str, origin: _Origin) -> None:
    """Compute `sql` on every row of `view` (hashing the value, so no optimizer can skip it)."""
    try:
        con.execute(f"select max(hash(({sql}))) from {view}").fetchone()
    except duckdb.BinderException:
        raise
    except duckdb.Error as exc:
        raise _expression_error(con, view, what, sql, exc, origin) from exc


def _expression_error(con: duckdb.DuckDBPyConnection, view: str, what: str, sql: str, exc: duckdb.Error,
                      origin: _Origin) -> InputFileError:
    columns = set(_columns(con, view))
    inputs = [c for c in dict.fromkeys(_identifiers(sql)) if c in columns]
    reason = first_line(exc)
    described = f"the config's {what} ({' '.join(sql.split())})"
    found = _failing_row(con, view, sql, inputs)
    if found is None:
        return origin.error(f"{described} fails on this file: {reason}")
    row, values = found
    blamed = _blamed_input(values, reason)
    others = "; ".join(f"{c} = {v!r}" for c, v in values.items() if c != blamed)
    got = repr(values[blamed]) if blamed is not None else "a row it rejects"
    return origin.error(f"expected a value {described} accepts, got {got} ({reason})"
                        + (f"; other inputs: {others}" if others else ""), row=row, column=blamed)


def _failing_row(con: duckdb.DuckDBPyConnection, view: str, sql: str,
                 inputs: list[str]) -> tuple[int, dict[str, str | None]] | None:
    """The first row, in file order, where `sql` raises: among rows whose `try()` is NULL though
    an input isn't (a NULL input gives NULL, not an error), the first that raises on its own."""
    shown = "".join(f", cast({quote_ident(c)} as varchar)" for c in inputs)
    some_input = " or ".join(f"{quote_ident(c)} is not null" for c in inputs) or "true"
    candidates = con.execute(f"select {ROW_NUMBER}{shown} from {view} where try(({sql})) is null and ({some_input}) "
                             f"order by {ROW_NUMBER} limit {_CANDIDATE_ROWS}").fetchall()
    for row, *values in candidates:
        try:
            con.execute(f"select max(hash(({sql}))) from {view} where {ROW_NUMBER} = ?", [row]).fetchone()
        except duckdb.Error:
            return int(row), dict(zip(inputs, values))
    return None


def _blamed_input(values: dict[str, str | None], reason: str) -> str | None:
    """The input whose value the error quotes, else the first that isn't NULL."""
    present = [c for c, v in values.items() if v is not None]
    quoted = [c for c in present if values[c] in reason]
    return (quoted or present or [None])[0]


def _identifiers(sql: str) -> list[str]:
    """Double-quoted identifiers in compiled SQL, skipping single-quoted strings."""
    return [m.group(1).replace('""', '"') for m in _STRING_OR_IDENTIFIER.finditer(sql) if m.group(1) is not None]


def _append(con: duckdb.DuckDBPyConnection, rules: SourceRules, file: DiscoveredFile, file_seq: int,
            load_id: int) -> None:
    """Insert by name, widening the landing table for new columns or conflicting types."""
    incoming = dict(con.execute("select column_name, column_type from (describe _incoming)").fetchall())
    landing = _landing_types(con, rules.name)
    keep = [n for n in incoming if n != ROW_NUMBER and n not in rules.drop_columns and n not in _LINEAGE_TYPES]
    for name in keep:
        new_type = incoming[name]
        if name not in landing:
            con.execute(f"alter table {rules.table} add column {quote_ident(name)} {new_type}")
        elif landing[name] != new_type:
            wider = _wider_type(landing[name], new_type)
            if wider != landing[name]:
                con.execute(f"alter table {rules.table} alter {quote_ident(name)} type {wider}")
    columns = ", ".join(quote_ident(n) for n in keep)
    con.execute(
        f"insert into {rules.table} by name select {columns}, "
        f"? as _file_path, ? as _file_group, ? as _file_seq, ? as _load_id, {ROW_NUMBER} as _row_in_file "
        f"from _incoming", [str(file.path), file.group, file_seq, load_id])


def _landing_types(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    """The source's landing columns and their types, in table order, lineage excluded."""
    rows = con.execute("select column_name, data_type from information_schema.columns where table_schema = ? "
                       "and table_name = ? order by ordinal_position", [LANDING_SCHEMA, f"{source}_raw"]).fetchall()
    return {n: t for n, t in rows if n not in _LINEAGE_TYPES}


def _wider_type(current: str, new: str) -> str:
    if current.split("(")[0] in _NUMERIC and new.split("(")[0] in _NUMERIC:
        return "DOUBLE"
    return "VARCHAR"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"select column_name from (describe {table})").fetchall()]


def loaded_column_types(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """Staged (renamed) column -> landing type, for the IH and the holdings data loaded so far, so
    the compiler checks column names and expression types against real data; None for a source
    with no data yet, which the compiler then checks against the standard Pega columns."""
    found = []
    for source in ("ih", "holdings"):
        types = _landing_types(con, source)
        renamed = schema.renamed_columns(list(types))
        found.append({name: types[raw] for raw, name in renamed.items()} or None)
    return found[0], found[1]
