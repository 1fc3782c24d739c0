"""Landing tables: raw rows with lineage, and a log of every file loaded.

A file is loaded once per content: the same path with the same SHA-256 is skipped (the same size
and modification time as when it was loaded count as the same content, without reading it), new
content at a known path replaces that file's rows. A source's new and changed files land in bulk: one
statement reads them all (in chunks that bound what archives unpack to disk) into the landing
table, widened for their columns as loading them one by one would widen it. Validation then
makes every check staging and the config's filter and derived columns would make, one query per
check over the batch's rows as staging will see them, so dbt never meets a value it can't
convert. A bad file fails the load naming itself (the first bad one in load order), its row and
column, and the batch's rows are removed again: nothing of a failed load is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

from valuemarts.config import schema
from valuemarts.config.typecheck import derived_select_list
from valuemarts.errors import InputFileError
from valuemarts.ingest.discover import DiscoveredFile
from valuemarts.ingest.readers import (ROW_NUMBER, FileReader, Scan, first_line, open_reader, read_error, row_note,
                                       scans)
from valuemarts.sql_names import quote_ident, quote_string

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
# Pega writes GMT: a value of this format passes the first format above, so validation sends only
# other values through the much slower time zone lookup of %Z.
_PEGA_GMT = "%Y%m%dT%H%M%S.%g GMT"
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
# Views of a batch's landed rows: as staging sees them, filtered, with derived columns.
_STAGED, _FILTERED, _DERIVED = "_batch_staged", "_batch_filtered", "_batch_derived"
# A failing expression's NULL rows re-evaluated one by one, at most, to find the row that raises.
_CANDIDATE_ROWS = 50
# A chunk of files read by one statement: archives unpacked to disk at once stop at about this
# many bytes (plus the last archive), so a long history doesn't unpack whole; and at most this
# many files, whose readers one statement binds.
_CHUNK_UNPACKED_BYTES = 1 << 30
_CHUNK_FILES = 256
_HASH_WORKERS = 4   # files hashed at once: reading and hashing them overlap
_OPEN_WORKERS = 4   # files opened at once (unpacked and their readers bound)
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
        file_hash varchar, size_bytes bigint, rows_read bigint, status varchar, loaded_at timestamptz,
        modified_ns bigint)""")
    # A warehouse from before file times were recorded: its files are hashed once more.
    con.execute(f"alter table {LOAD_LOG} add column if not exists modified_ns bigint")
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
    """Land the new and changed files in bulk; `log` gets a line per file (status and rows), in
    load order, once they have landed."""
    planned, outcome = _plan(con, files, rules)
    rows = _land(con, rules, planned, load_id) if planned else {}
    results = []
    for file, item in outcome:
        if item is None:
            results.append(FileLoad(str(file.path), file.group, "skipped", 0, None))
            line = "skipped (already loaded)"
        else:
            results.append(FileLoad(str(file.path), file.group, item.status, rows[item.seq], item.seq))
            line = f"{rows[item.seq]:,} rows ({item.status})"
        if log:
            log(f"  {file.path.name}: {line}")
    return results


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Planned:
    """A file this load lands: new, or replacing the rows of an earlier content of its path."""

    file: DiscoveredFile
    status: str
    digest: str
    seq: int
    size: int
    modified_ns: int


@dataclass(frozen=True)
class _Landed:
    """A file whose rows are in the landing table, not yet validated."""

    planned: _Planned
    raw_names: tuple[str, ...]   # its columns, as its reader gives them
    row_note: str

    @property
    def seq(self) -> int:
        return self.planned.seq

    @property
    def path(self) -> str:
        return str(self.planned.file.path)


@dataclass(frozen=True)
class _Failure:
    """Why a file fails to load, and its place in load order."""

    seq: int
    error: InputFileError


def _plan(con: duckdb.DuckDBPyConnection, files: list[DiscoveredFile],
          rules: SourceRules) -> tuple[list[_Planned], list[tuple[DiscoveredFile, _Planned | None]]]:
    """The files to land, with file_seqs in load order, and each file with its plan (None: skipped,
    the same path and content as last loaded; a path given twice is loaded once)."""
    previous, digests, stats = _digests(con, rules.name, files)
    (seq,) = con.execute(f"select coalesce(max(file_seq), 0) + 1 from {LOAD_LOG}").fetchone()
    planned, outcome = [], []
    for file, digest, stat in zip(files, digests, stats):
        before = previous.get(str(file.path))
        previous[str(file.path)] = digest
        item = None
        if before != digest:
            item = _Planned(file, "new" if before is None else "replaced", digest, seq, stat.st_size, stat.st_mtime_ns)
            planned.append(item)
            seq += 1
        outcome.append((file, item))
    return planned, outcome


def _sha256_all(paths: list[Path]) -> list[str]:
    """Hash files side by side: hashlib releases the GIL while it hashes a chunk."""
    with ThreadPoolExecutor(max_workers=_HASH_WORKERS) as pool:
        return list(pool.map(file_sha256, paths))


def _digests(con: duckdb.DuckDBPyConnection, source: str,
             files: list[DiscoveredFile]) -> tuple[dict[str, str], list[str], list[os.stat_result]]:
    """Each known path's content hash as last loaded, and each file's hash and stat now (taken
    before it is read, so a file changed while it is hashed is read again next time).

    A file with the size and modification time (to the nanosecond) it had when last loaded is
    taken to hold the same content, as make and rsync take it, and is not read again: an append
    then reads only the new files, not every file of the history. Any other file is hashed.
    """
    paths = [str(f.path) for f in files]
    last = {path: (digest, size, modified) for path, digest, size, modified in con.execute(
        f"select file_path, arg_max(file_hash, file_seq), arg_max(size_bytes, file_seq), "
        f"arg_max(modified_ns, file_seq) from {LOAD_LOG} where source = ? and list_contains(?, file_path) "
        "group by file_path", [source, paths]).fetchall()}
    digests: dict[int, str] = {}
    stats = [file.path.stat() for file in files]
    for index, (file, stat) in enumerate(zip(files, stats)):
        known = last.get(str(file.path))
        if known is not None and known[2] is not None and (known[1], known[2]) == (stat.st_size, stat.st_mtime_ns):
            digests[index] = known[0]
    unknown = [i for i in range(len(files)) if i not in digests]
    digests.update(zip(unknown, _sha256_all([files[i].path for i in unknown])))
    return {path: digest for path, (digest, _, _) in last.items()}, [digests[i] for i in range(len(files))], stats


def _land(con: duckdb.DuckDBPyConnection, rules: SourceRules, planned: list[_Planned], load_id: int) -> dict[int, int]:
    """Insert the files' rows, validate them, then remove replaced files' earlier rows and log the
    files; return rows per file_seq. On any failure the batch's rows are removed again."""
    first = planned[0].seq
    try:
        landed, failure = _insert_in_chunks(con, rules, planned, load_id)
        rows = _Validation(con, rules, landed, failure, first).run()
        replaced = [str(p.file.path) for p in planned if p.status == "replaced"]
        if replaced:
            con.execute(f"delete from {rules.table} where _file_seq < ? and list_contains(?, _file_path)",
                        [first, replaced])
        values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)"] * len(planned))
        con.execute(f"insert into {LOAD_LOG} (load_id, file_seq, source, file_path, file_group, file_hash, size_bytes, "
                    f"rows_read, status, loaded_at, modified_ns) values {values}",
                    [value for p in planned for value in (load_id, p.seq, rules.name, str(p.file.path), p.file.group,
                                                          p.digest, p.size, rows[p.seq], p.status, p.modified_ns)])
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute(f"delete from {rules.table} where _file_seq >= ?", [first])
        raise
    return rows


def _insert_in_chunks(con: duckdb.DuckDBPyConnection, rules: SourceRules, planned: list[_Planned],
                      load_id: int) -> tuple[list[_Landed], _Failure | None]:
    """Insert the files in load order, a chunk at a time (a chunk's archives stay unpacked until
    its rows are in), up to the first file that can't be read: the files landed, and its failure."""
    landed: list[_Landed] = []
    remaining = planned
    while remaining:
        with tempfile.TemporaryDirectory(prefix="valuemarts-unpack-") as tmp:
            opened, unopened = _open_chunk(con, rules, remaining, Path(tmp))
            inserted, unread = _insert_chunk(con, rules, opened, load_id)
        landed += inserted
        if unread or unopened:
            return landed, unread or unopened
        remaining = remaining[len(opened):]
    return landed, None


def _open_chunk(con: duckdb.DuckDBPyConnection, rules: SourceRules, planned: list[_Planned],
                tmp: Path) -> tuple[list[tuple[_Planned, FileReader]], _Failure | None]:
    """Open files in order until the chunk is full (_CHUNK_FILES files, or its archives have
    unpacked _CHUNK_UNPACKED_BYTES) or a file can't be read: the files opened, and its failure.
    A few files open at once: binding a JSON reader infers its types from every row, on one core."""
    opened: list[tuple[_Planned, FileReader]] = []
    unpacked = 0
    queue = iter(planned)
    running: deque[tuple[_Planned, Future[FileReader]]] = deque()
    with ThreadPoolExecutor(max_workers=_OPEN_WORKERS) as pool:
        def submit() -> None:
            item = next(queue, None)
            if item is not None:
                running.append((item, pool.submit(_open, con, rules, item, tmp)))

        for _ in range(_OPEN_WORKERS):
            submit()
        while running and len(opened) < _CHUNK_FILES and unpacked < _CHUNK_UNPACKED_BYTES:
            item, future = running.popleft()
            try:
                reader = future.result()
            except InputFileError as exc:
                return opened, _Failure(item.seq, exc)
            opened.append((item, reader))
            unpacked += reader.unpacked_bytes
            submit()
    return opened, None


def _open(con: duckdb.DuckDBPyConnection, rules: SourceRules, item: _Planned, tmp: Path) -> FileReader:
    """Open a file on a cursor of its own, so files open side by side."""
    with con.cursor() as cursor:
        return open_reader(cursor, item.file.path, rules.file_type, tmp, rules.hive_partitioning)


def _insert_chunk(con: duckdb.DuckDBPyConnection, rules: SourceRules, opened: list[tuple[_Planned, FileReader]],
                  load_id: int) -> tuple[list[_Landed], _Failure | None]:
    """Widen the landing table for the files' columns and insert their rows in one statement; if
    that fails, file by file, to name the first file that can't be read."""
    if not opened:
        return [], None
    landing = _landing_types(con, rules.name)
    typed = _typed_raw_names(rules, _landed_order(rules, landing, [n for _, r in opened for n in r.columns]))
    target = _widen(con, rules, landing, [_landed_types(rules, r.columns, typed) for _, r in opened])
    landed = [_Landed(item, tuple(r.columns), row_note(item.file.path, rules.file_type)) for item, r in opened]
    insert = _Insert(rules, target, typed, {item.file.path: item for item, _ in opened}, load_id)
    try:
        insert.run(con, [r for _, r in opened])
    except (duckdb.BinderException, duckdb.ParserException):
        raise  # the statement, not a file: every reader was bound when its file was opened
    except duckdb.Error:
        for index, (item, reader) in enumerate(opened):
            try:
                insert.run(con, [reader])
            except duckdb.Error as exc:
                return landed[:index], _Failure(item.seq, read_error(item.file.path, rules.file_type, exc))
    return landed, None


def _landed_order(rules: SourceRules, landing: dict[str, str], raw_names: list[str]) -> list[str]:
    """Raw columns as the landing table will hold them once these are in: its columns, then the
    new ones. Staging renames over all of them, not just one file's."""
    return list(landing) + [n for n in dict.fromkeys(raw_names) if n not in landing and _lands(rules, n)]


def _lands(rules: SourceRules, raw: str) -> bool:
    """Whether a file's column lands: not one the source drops, nor named like a lineage column."""
    return raw not in rules.drop_columns and raw not in _LINEAGE_TYPES


def _staged_raw_names(rules: SourceRules, landed: list[str]) -> list[str]:
    """The raw columns staging keeps: not the dropped ones, nor on IH a raw column named like a
    field staging derives itself (a hive partition `Day`), as the compiled ih drop_columns say."""
    dropped = rules.drop_columns | (frozenset(schema.IH_DERIVED_COLUMNS) if rules.name == "ih" else frozenset())
    return [n for n in landed if n not in dropped]


def _typed_raw_names(rules: SourceRules, landed: list[str]) -> frozenset[str]:
    """Raw columns staging gives a type, after renaming over all landed columns."""
    renamed = schema.renamed_columns(_staged_raw_names(rules, landed))
    return frozenset(raw for raw, name in renamed.items() if name in rules.column_types)


def _landed_types(rules: SourceRules, columns: dict[str, str], typed: frozenset[str]) -> dict[str, str]:
    """A file's landing columns and types. A JSON field holding both strings and numbers reads as
    type JSON, whose text keeps a string's quotes: staging's casts would see '"Web"', and
    '"20241010T145658.123 GMT"' is no timestamp. Such typed columns land as their values' text,
    as a field of strings alone does."""
    return {n: "VARCHAR" if t == "JSON" and n in typed else t for n, t in columns.items() if _lands(rules, n)}


def _widen(con: duckdb.DuckDBPyConnection, rules: SourceRules, landing: dict[str, str],
           file_types: list[dict[str, str]]) -> dict[str, str]:
    """Add new columns and widen conflicting types as the files, in load order, require: numeric
    types to DOUBLE, other conflicts to VARCHAR (not DuckDB's union of types, which would keep
    INTEGER and BIGINT as BIGINT, or DATE and TIMESTAMP as TIMESTAMP). Return the landing types.
    Each file's values are then cast once, to the final type: one load per file would have cast
    an integer widened to DOUBLE and then to VARCHAR by two later files twice, to '1.0'; here
    it reads '1'."""
    target = dict(landing)
    for types in file_types:
        for name, new in types.items():
            current = target.setdefault(name, new)
            if current != new:
                target[name] = _wider_type(current, new)
    for name, data_type in target.items():
        if name not in landing:
            con.execute(f"alter table {rules.table} add column {quote_ident(name)} {data_type}")
        elif data_type != landing[name]:
            con.execute(f"alter table {rules.table} alter {quote_ident(name)} type {data_type}")
    return target


@dataclass(frozen=True)
class _Insert:
    """The insert of files into the landing table: their columns in landing types, and lineage."""

    rules: SourceRules
    target: dict[str, str]             # landing column -> type
    typed: frozenset[str]
    planned: dict[Path, _Planned]
    load_id: int

    def run(self, con: duckdb.DuckDBPyConnection, readers: list[FileReader]) -> None:
        selects = [self._select(scan) for scan in scans(readers, self.rules.hive_partitioning)]
        con.execute(f"insert into {self.rules.table} by name {' union all by name '.join(selects)}")

    def _select(self, scan: Scan) -> str:
        items = [self.planned[r.path] for r in scan.readers]
        lineage = {
            "_file_path": scan.per_file([quote_string(str(p.file.path)) for p in items]),
            "_file_group": scan.per_file([quote_string(p.file.group) for p in items]),
            "_file_seq": scan.per_file([str(p.seq) for p in items]),
            "_load_id": str(self.load_id),
            ROW_NUMBER: scan.row_number,
        }
        columns = [self._column(n, t) for n, t in scan.columns.items() if _lands(self.rules, n)]
        return f"(select {', '.join(columns + [f'{sql} as {n}' for n, sql in lineage.items()])} from {scan.source})"

    def _column(self, name: str, read_type: str) -> str:
        """A column as it lands: mixed JSON of a typed column as text, cast to the landing type."""
        expr, data_type = quote_ident(name), read_type
        if data_type == "JSON" and name in self.typed:
            expr, data_type = f"json_extract_string({expr}, '$')", "VARCHAR"
        if data_type != self.target[name]:
            expr = f"cast({expr} as {self.target[name]})"
        return f"{expr} as {quote_ident(name)}"


class _Validation:
    """The checks of a batch's landed rows, on the rows as staging will see them, in the order the
    files would have been checked one by one: for each file its rows, required columns, typed
    columns, then the config's filter and derived columns. Each check is one query over the
    batch; once a file fails, later checks look only at the files before it, so the error raised
    is that of the first bad file in load order."""

    def __init__(self, con: duckdb.DuckDBPyConnection, rules: SourceRules, landed: list[_Landed],
                 failure: _Failure | None, first: int):
        self.con, self.rules, self.landed, self.first = con, rules, landed, first
        self.failure = failure
        self.before = failure.seq if failure else (landed[-1].seq + 1)
        self.files = {item.seq: item for item in landed}
        self.renamed = schema.renamed_columns(_staged_raw_names(rules, list(_landing_types(con, rules.name))))
        self.raw_of = {name: raw for raw, name in self.renamed.items()}
        self.staged = False

    def run(self) -> dict[int, int]:
        """Rows per file_seq of a batch that passes; else raise the first bad file's error."""
        rows = dict(self.con.execute(f"select _file_seq, count(*) from {self.rules.table} where _file_seq >= ? "
                                     "group by _file_seq", [self.first]).fetchall())
        self._check_files(rows)
        raw_names = {n for item in self.landed for n in item.raw_names}
        for raw, name in self.renamed.items():
            if name in self.rules.column_types and raw in raw_names:
                self._check_type(raw, self.rules.column_types[name])
        if self.rules.derived_columns or self.rules.filter_sql:
            try:
                self._stage()
                self._check_config_expressions()
            finally:
                for view in (_DERIVED, _FILTERED, _STAGED):
                    self.con.execute(f"drop view if exists {view}")
        if self.failure:
            raise self.failure.error
        return rows

    def fail(self, seq: int, message: str, row: int | None = None, column: str | None = None) -> None:
        """Keep a file's error (`column` a raw name) if the file comes before any bad one found so
        far, and narrow later checks to the files before it."""
        if seq >= self.before:
            return
        item = self.files[seq]
        error = InputFileError(item.path, message + (item.row_note if row is not None else ""), row=row, column=column)
        self.failure, self.before = _Failure(seq, error), seq
        if self.staged:
            self._stage()

    @property
    def in_batch(self) -> str:
        """The rows later checks look at: the batch's files before the first bad one found."""
        return f"_file_seq >= {self.first} and _file_seq < {self.before}"

    def _check_files(self, rows: dict[int, int]) -> None:
        """Each file has rows and the required columns (after renaming px/py/pz names)."""
        for item in self.landed:
            if item.seq >= self.before:
                return
            if not rows.get(item.seq):
                return self.fail(item.seq, "the file holds no rows")
            own = {raw: name for raw, name in self.renamed.items() if raw in item.raw_names}
            present = set(own.values()) | set(self.rules.default_values)
            missing = [c for c in self.rules.required_columns if c not in present]
            if missing:
                return self.fail(item.seq, f"missing required column(s) {', '.join(missing)} (after renaming "
                                           f"px/py/pz names); columns found: {', '.join(item.raw_names)}")

    def _check_type(self, raw: str, expected: str) -> None:
        column = quote_ident(raw)
        if expected == "TIMESTAMPTZ":
            bad = (f"case when try_strptime(cast({column} as varchar), '{_PEGA_GMT}') is not null then false "
                   f"else {_PEGA_TIMESTAMP.format(c=column)} is null end")
            what = "a Pega timestamp like 20241010T145658.123 GMT"
        elif expected in _NUMERIC:
            bad = f"try_cast({column} as {expected}) is null"
            what = "an integer" if expected == "BIGINT" else "a number"
        else:
            return
        found = self.con.execute(f"select _file_seq, {ROW_NUMBER}, cast({column} as varchar) from {self.rules.table} "
                                 f"where {self.in_batch} and {column} is not null and {bad} "
                                 f"order by _file_seq, {ROW_NUMBER} limit 1").fetchone()
        if found is not None:
            seq, row, value = found
            self.fail(seq, f"expected {what}, got {value!r}", row=int(row), column=raw)

    def _stage(self) -> None:
        """(Re)create the view of the batch's rows as stg_pega__* will see them: each column
        renamed, typed and defaulted, and on IH the fields staging derives."""
        staged = f"select {', '.join(_staged_select(self.rules, self.renamed))} from {self.rules.table} where {self.in_batch}"
        if self.rules.name == "ih":
            fields = ", ".join(f"{sql} as {quote_ident(name)}" for name, sql in _IH_STAGED_FIELDS.items())
            staged = f"select *, {fields} from ({staged})"
        self.con.execute(f"create or replace temp view {_STAGED} as {staged}")
        self.staged = True

    def _check_config_expressions(self) -> None:
        """Evaluate the config's filter and derived columns on the staged rows, in the order the
        intermediate models apply them, so a value they can't convert is reported here with its
        row rather than failing dbt with a bare Conversion Error. One pass per expression."""
        rules, con = self.rules, self.con
        try:
            if rules.name in _FILTER_AFTER_DERIVED:
                self._check_derived_columns(_STAGED)
                derived = [(d["name"], d["sql"]) for d in rules.derived_columns]
                con.execute(f"create or replace temp view {_DERIVED} as "
                            f"select {derived_select_list(derived, _columns(con, _STAGED))} from {_STAGED}")
                if rules.filter_sql:
                    self._evaluate(_DERIVED, "filter", rules.filter_sql)
            elif rules.filter_sql:
                self._evaluate(_STAGED, "filter", rules.filter_sql)
                con.execute(f"create or replace temp view {_FILTERED} as "
                            f"select * from {_STAGED} where ({rules.filter_sql})")
                self._check_derived_columns(_FILTERED)
            else:
                self._check_derived_columns(_STAGED)
        except duckdb.BinderException:
            return  # a column no loaded file has, or a type mismatch: the compile after loading names its config key

    def _check_derived_columns(self, view: str) -> None:
        for column in self.rules.derived_columns:
            self._evaluate(view, f"derived column {column['name']}", column["sql"])

    def _evaluate(self, view: str, what: str, sql: str) -> None:
        """Compute `sql` on every row of `view` (hashing the value, so no optimizer can skip it)."""
        try:
            self.con.execute(f"select max(hash(({sql}))) from {view}").fetchone()
        except duckdb.BinderException:
            raise
        except duckdb.Error as exc:
            self._expression_failed(view, what, sql, exc)

    def _expression_failed(self, view: str, what: str, sql: str, exc: duckdb.Error) -> None:
        """Find where `sql` raised: the first row, its value of the input the error quotes, and
        the other inputs' values; failing that, the first file."""
        columns = set(_columns(self.con, view))
        inputs = [c for c in dict.fromkeys(_identifiers(sql)) if c in columns]
        reason = first_line(exc)
        described = f"the config's {what} ({' '.join(sql.split())})"
        found = _failing_row(self.con, view, sql, inputs)
        if found is None:
            seq = _failing_file(self.con, view, sql, sorted(s for s in self.files if s < self.before))
            return self.fail(seq, f"{described} fails on this file: {reason}")
        seq, row, values = found
        blamed = _blamed_input(values, reason)
        others = "; ".join(f"{c} = {v!r}" for c, v in values.items() if c != blamed)
        got = repr(values[blamed]) if blamed is not None else "a row it rejects"
        self.fail(seq, f"expected a value {described} accepts, got {got} ({reason})"
                       + (f"; other inputs: {others}" if others else ""), row=row,
                  column=None if blamed is None else self.raw_of.get(blamed, blamed))


def _staged_select(rules: SourceRules, renamed: dict[str, str]) -> list[str]:
    """The select list of macro staged_select_list: every kept column renamed, typed and
    defaulted, then typed or defaulted columns the data lacks, then the row's file and number."""
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
    return items + ["_file_seq", ROW_NUMBER]


def _failing_row(con: duckdb.DuckDBPyConnection, view: str, sql: str,
                 inputs: list[str]) -> tuple[int, int, dict[str, str | None]] | None:
    """The first row, in load and file order, where `sql` raises: among rows whose `try()` is NULL
    though an input isn't (a NULL input gives NULL, not an error), the first that raises on its
    own. Its file_seq, row number and input values."""
    shown = "".join(f", cast({quote_ident(c)} as varchar)" for c in inputs)
    some_input = " or ".join(f"{quote_ident(c)} is not null" for c in inputs) or "true"
    candidates = con.execute(f"select _file_seq, {ROW_NUMBER}{shown} from {view} where try(({sql})) is null "
                             f"and ({some_input}) order by _file_seq, {ROW_NUMBER} limit {_CANDIDATE_ROWS}").fetchall()
    for seq, row, *values in candidates:
        try:
            con.execute(f"select max(hash(({sql}))) from {view} where _file_seq = ? and {ROW_NUMBER} = ?",
                        [seq, row]).fetchone()
        except duckdb.Error:
            return int(seq), int(row), dict(zip(inputs, values))
    return None


def _failing_file(con: duckdb.DuckDBPyConnection, view: str, sql: str, seqs: list[int]) -> int:
    """The first file on whose rows `sql` raises; the first file when none does on its own."""
    for seq in seqs:
        try:
            con.execute(f"select max(hash(({sql}))) from {view} where _file_seq = ?", [seq]).fetchone()
        except duckdb.Error:
            return seq
    return seqs[0]


def _blamed_input(values: dict[str, str | None], reason: str) -> str | None:
    """The input whose value the error quotes, else the first that isn't NULL."""
    present = [c for c, v in values.items() if v is not None]
    quoted = [c for c in present if values[c] in reason]
    return (quoted or present or [None])[0]


def _identifiers(sql: str) -> list[str]:
    """Double-quoted identifiers in compiled SQL, skipping single-quoted strings."""
    return [m.group(1).replace('""', '"') for m in _STRING_OR_IDENTIFIER.finditer(sql) if m.group(1) is not None]


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
