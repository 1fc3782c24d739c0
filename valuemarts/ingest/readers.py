"""Read one export file into a DuckDB temp table with DuckDB's own readers.

Pega dataset-export archives are unpacked here (DuckDB can't read inside a zip), within limits
on unpacked size and compression ratio checked before anything is unpacked, so an archive bomb
is refused; gzip NDJSON is read directly. Every failure becomes an InputFileError naming the file.
"""

from __future__ import annotations

import copy
import math
import os
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
# Archive bomb limits, per archive. Pega NDJSON deflates about 7-12x (demo zips 7-9x at level 1,
# 10-12x at level 9), so 200x leaves ample room for repetitive exports while a bomb (~1000x) fails.
MAX_BYTES_ENV = "VALUEMARTS_ARCHIVE_MAX_BYTES"
MAX_RATIO_ENV = "VALUEMARTS_ARCHIVE_MAX_RATIO"
DEFAULT_MAX_BYTES = 2 * 1024**3
DEFAULT_MAX_RATIO = 200.0
_CHUNK = 1 << 20


def read_into(con: duckdb.DuckDBPyConnection, path: Path, file_type: str, table: str,
              hive_partitioning: bool = False) -> int:
    """Create temp table `table` with the file's rows plus a 1-based `_row_in_file`; return rows.

    `row_number() over ()` runs as DuckDB's streaming window, which numbers rows in scan order:
    file order, archive members in archive order.
    """
    with tempfile.TemporaryDirectory(prefix="valuemarts-unpack-") as tmp:
        reader = _reader_sql(path, file_type, Path(tmp), hive_partitioning)
        try:
            con.execute(f"create or replace temp table {table} as "
                        f"select *, row_number() over () as {ROW_NUMBER} from {reader}")
        except duckdb.Error as exc:
            raise InputFileError(str(path), f"cannot read as {file_type}: {first_line(exc)}") from exc
    (rows,) = con.execute(f"select count(*) from {table}").fetchone()
    return rows


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


def _reader_sql(path: Path, file_type: str, tmp: Path, hive: bool) -> str:
    kind = _kind(path, file_type)
    if kind == "parquet":
        return f"read_parquet({quote_string(str(path))}, hive_partitioning = {str(hive).lower()}, union_by_name = true)"
    if kind == "csv":
        return f"read_csv({quote_string(str(path))}, auto_detect = true, header = true, sample_size = -1)"
    if kind == "xlsx":
        return f"read_xlsx({quote_string(str(path))}, header = true)"
    if kind == "zip":
        members = _unpack_zip(path, tmp)
    elif kind == "tar":
        members = _unpack_tar(path, tmp)
    else:
        members = [path]
    files = "[" + ", ".join(quote_string(str(m)) for m in members) + "]"
    return f"read_json({files}, format = 'auto', union_by_name = true, sample_size = -1)"


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
