"""Read export files with DuckDB's own readers: one reader per file, and scans that read many
files in one statement, numbering each row within its file.

Binding a file's reader gives its columns and their types (a parquet file's footer; all of a JSON
or CSV file, whose types DuckDB infers from every row), so the loader can plan the landing
columns before any row is read; a JSON file is then read with the types inferred, not inferred
again. Parquet files of one schema are read by one `read_parquet`, which gives each row's file
and row number; any other file is read on its own, numbered by `row_number() over ()`, DuckDB's
streaming window, which numbers rows in scan order: file order, archive members in archive order.

Pega dataset-export archives are unpacked here (DuckDB can't read inside a zip), within limits
on unpacked size and compression ratio checked before anything is unpacked, so an archive bomb
is refused; gzip NDJSON is read directly. Every failure becomes an InputFileError naming the file.
"""

from __future__ import annotations

import copy
import math
import os
import re
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import duckdb

from valuemarts.errors import InputFileError, ValueMartsError
from valuemarts.sql_names import quote_string

ROW_NUMBER = "_row_in_file"
_JSON_MEMBER_SUFFIXES = (".json", ".ndjson", ".jsonl")
# read_parquet's virtual columns for a row's file (its index in the list) and row; a file with
# a column of either name hides them, so such a file is read on its own.
_PARQUET_VIRTUAL = frozenset({"file_index", "file_row_number"})
# JSON types whose inference also found a format (dates like 15-03-2023): given back as columns
# they would be parsed as ISO, so a file with any is read with inference again.
_FORMATTED_TYPE = re.compile(r"\b(DATE|TIME)")
# Archive bomb limits, per archive. Pega NDJSON deflates about 7-12x (demo zips 7-9x at level 1,
# 10-12x at level 9), so 200x leaves ample room for repetitive exports while a bomb (~1000x) fails.
MAX_BYTES_ENV = "VALUEMARTS_ARCHIVE_MAX_BYTES"
MAX_RATIO_ENV = "VALUEMARTS_ARCHIVE_MAX_RATIO"
DEFAULT_MAX_BYTES = 2 * 1024**3
DEFAULT_MAX_RATIO = 200.0
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileReader:
    """One file as DuckDB reads it: a table expression, and the columns (name -> type) it gives."""

    path: Path
    file_type: str
    sql: str
    columns: dict[str, str]
    unpacked_bytes: int    # what unpacking it wrote to the temp folder

    @property
    def groups_with_others(self) -> bool:
        """Whether one `read_parquet` may read it with other files of its schema."""
        return (_kind(self.path, self.file_type) == "parquet"
                and not any(c.lower() in _PARQUET_VIRTUAL for c in self.columns))


@dataclass(frozen=True)
class Scan:
    """Files read by one table expression (`source`), with each row's 1-based number in its file."""

    readers: tuple[FileReader, ...]
    source: str
    row_number: str

    @property
    def columns(self) -> dict[str, str]:
        """The scan's columns: its files share them (a scan of several files is one schema)."""
        return self.readers[0].columns

    def per_file(self, values: list[str]) -> str:
        """An SQL expression giving each row its file's value from `values` (SQL, one per file)."""
        if len(self.readers) == 1:
            return values[0]
        return f"[{', '.join(values)}][cast(file_index as bigint) + 1]"


def open_reader(con: duckdb.DuckDBPyConnection, path: Path, file_type: str, tmp: Path,
                hive_partitioning: bool = False) -> FileReader:
    """Unpack `path` into a folder under `tmp` if it is an archive, and bind its reader."""
    folder = Path(tempfile.mkdtemp(dir=tmp))
    kind = _kind(path, file_type)
    members = _json_members(path, kind, folder)
    sql = _json_reader(members) if members else _table_reader(path, kind, hive_partitioning)
    try:
        columns = dict(con.execute(f"select column_name, column_type from (describe select * from {sql})").fetchall())
    except duckdb.Error as exc:
        raise read_error(path, file_type, exc) from exc
    if members and not _FORMATTED_TYPE.search(" ".join(columns.values())):
        sql = _json_reader(members, columns)
    unpacked = sum(p.stat().st_size for p in folder.iterdir())
    return FileReader(path, file_type, sql, columns, unpacked)


def scans(readers: list[FileReader], hive_partitioning: bool) -> list[Scan]:
    """The fewest scans that read these files: one per parquet schema, one per other file; in
    the order of their first file."""
    groups: dict[object, list[FileReader]] = {}
    for index, reader in enumerate(readers):
        key = tuple(reader.columns.items()) if reader.groups_with_others else index
        groups.setdefault(key, []).append(reader)
    return [_scan(group, hive_partitioning) for group in groups.values()]


def _scan(readers: list[FileReader], hive_partitioning: bool) -> Scan:
    """A scan of parquet files of one schema numbers rows by their place in the file, which
    leaves DuckDB free to read a large file in parallel; other files are numbered as read."""
    if not readers[0].groups_with_others:
        return Scan((readers[0],), readers[0].sql, "row_number() over ()")
    paths = ", ".join(quote_string(str(r.path)) for r in readers)
    source = f"read_parquet([{paths}], hive_partitioning = {str(hive_partitioning).lower()})"
    return Scan(tuple(readers), source, "file_row_number + 1")


def read_error(path: Path, file_type: str, exc: duckdb.Error) -> InputFileError:
    return InputFileError(str(path), f"cannot read as {file_type}: {first_line(exc)}")


def row_note(path: Path, file_type: str) -> str:
    """What a row number means where that could be misread: in CSV and XLSX it is a data row."""
    if _kind(path, file_type) in ("csv", "xlsx"):
        return " (rows are counted from the first data row below the header)"
    return ""


def _kind(path: Path, file_type: str) -> str:
    name = path.name.lower()
    if file_type == "parquet" or name.endswith(".parquet"):
        return "parquet"
    if file_type == "csv" or name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    if file_type == "xlsx" or name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tgz", ".tar.gz")):
        return "tar"
    return "json"


def _table_reader(path: Path, kind: str, hive: bool) -> str:
    if kind == "parquet":
        return f"read_parquet({quote_string(str(path))}, hive_partitioning = {str(hive).lower()}, union_by_name = true)"
    if kind == "csv":
        return f"read_csv({quote_string(str(path))}, auto_detect = true, header = true, sample_size = -1)"
    return f"read_xlsx({quote_string(str(path))}, header = true)"


def _json_members(path: Path, kind: str, folder: Path) -> list[Path]:
    """The JSON files to read for `path`: an archive's members, unpacked into `folder`, or the
    file itself; none for a table format."""
    if kind == "zip":
        return _unpack_zip(path, folder)
    if kind == "tar":
        return _unpack_tar(path, folder)
    return [path] if kind == "json" else []


def _json_reader(members: list[Path], columns: dict[str, str] | None = None) -> str:
    """Without `columns`, DuckDB infers the types from every row, a pass over the data; the
    columns it inferred, given back, spare the statement that reads the rows a second pass."""
    files = "[" + ", ".join(quote_string(str(m)) for m in members) + "]"
    if columns is None:
        return f"read_json({files}, format = 'auto', union_by_name = true, sample_size = -1)"
    given = ", ".join(f"{quote_string(n)}: {quote_string(t)}" for n, t in columns.items())
    return f"read_json({files}, format = 'auto', union_by_name = true, columns = {{{given}}})"


@dataclass(frozen=True)
class _Budget:
    """How many bytes one archive may unpack to: at most the size limit, and at most the ratio
    limit times the bytes the members take in the archive."""

    path: Path
    max_bytes: int
    max_ratio: float

    def check(self, unpacked: int, packed: int) -> None:
        """Refuse the archive when its members, as far as declared, would unpack past a limit."""
        declared = f"archive declares {unpacked} bytes unpacked"
        if unpacked > self.max_bytes:
            raise InputFileError(str(self.path), f"{declared}, over the limit of {self.max_bytes} bytes "
                                                 f"({MAX_BYTES_ENV}); refused before unpacking")
        ratio = unpacked / max(packed, 1)
        if ratio > self.max_ratio:
            raise InputFileError(str(self.path), f"{declared} from {packed} packed bytes (compression "
                                                 f"ratio {ratio:.0f}x), over the limit of {self.max_ratio:g}x "
                                                 f"({MAX_RATIO_ENV}); refused before unpacking, as a likely "
                                                 "archive bomb")


def _budget(path: Path) -> _Budget:
    """Limits are read at each check, so a setting changed in the environment applies at once."""
    max_bytes = int(_env_limit(MAX_BYTES_ENV, DEFAULT_MAX_BYTES))
    return _Budget(path, max_bytes, _env_limit(MAX_RATIO_ENV, DEFAULT_MAX_RATIO))


def _env_limit(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise ValueMartsError(f"{name}={raw!r}: expected a positive number")
    return value


def _unpack_zip(path: Path, tmp: Path) -> list[Path]:
    budget = _budget(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist()
                       if not i.is_dir() and i.filename.lower().endswith(_JSON_MEMBER_SUFFIXES)]
            # Packed bytes of the JSON members only, so padding the archive with other members
            # can't dilute the ratio; never more than the file, whatever the headers claim.
            packed = min(sum(i.compress_size for i in members), path.stat().st_size)
            budget.check(sum(i.file_size for i in members), packed)
            out = []
            for index, info in enumerate(members):
                # Written under our own names: a member path can't escape the temp folder.
                target = tmp / f"member-{index}.json"
                with _open_past_declared(archive, info) as src:
                    _copy_declared(src, target, path, info.filename, info.file_size)
                out.append(target)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputFileError(str(path), f"not a readable zip archive: {exc}") from exc
    if not out:
        raise InputFileError(str(path), "the archive holds no .json/.ndjson member (expected a Pega dataset export)")
    return out


def _open_past_declared(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> BinaryIO:
    """Open a member able to yield more than declared: zipfile itself stops at the declared size
    (and then fails only on the CRC), which would hide a header that understates its member.
    The slack exceeds what zipfile inflates beyond a read's request (4 KiB), so reading one
    byte past the declared size can't end the member early."""
    probe = copy.copy(info)
    probe.file_size = info.file_size + _CHUNK
    return archive.open(probe)


def _unpack_tar(path: Path, tmp: Path) -> list[Path]:
    budget = _budget(path)
    try:
        with tarfile.open(path) as archive:
            out = []
            declared, packed = 0, path.stat().st_size
            # Member by member: a huge member is refused at its header, before its data is inflated.
            for member in archive:
                if not (member.isfile() and member.name.lower().endswith(_JSON_MEMBER_SUFFIXES)):
                    continue
                declared += member.size
                budget.check(declared, packed)
                source = archive.extractfile(member)
                if source is not None:
                    target = tmp / f"member-{len(out)}.json"
                    _copy_declared(source, target, path, member.name, member.size)
                    out.append(target)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputFileError(str(path), f"not a readable tar archive: {exc}") from exc
    if not out:
        raise InputFileError(str(path), "the archive holds no .json/.ndjson member (expected a Pega dataset export)")
    return out


def _copy_declared(source: BinaryIO, target: Path, path: Path, member: str, declared: int) -> None:
    """Copy a member, stopping as soon as it yields more than its header declared. The declared
    sizes passed the budget, so this also bounds what the whole archive writes."""
    written = 0
    with target.open("wb") as dst:
        while chunk := source.read(min(_CHUNK, declared + 1 - written)):
            written += len(chunk)
            if written > declared:
                raise InputFileError(str(path), f"archive member {member} holds more than the {declared} bytes "
                                                "its header declares; refused as a likely archive bomb")
            dst.write(chunk)


def first_line(exc: Exception) -> str:
    """The first line of an error: DuckDB appends the query and a caret on further lines."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
