"""Read one export file into a DuckDB temp table with DuckDB's own readers.

Pega dataset-export archives are unpacked here (DuckDB can't read inside a zip); gzip NDJSON is
read directly. Every failure becomes an InputFileError naming the file.
"""

from __future__ import annotations

import tarfile
import tempfile
import zipfile
from pathlib import Path

import duckdb

from valuemarts.errors import InputFileError

ROW_NUMBER = "_row_in_file"
_JSON_MEMBER_SUFFIXES = (".json", ".ndjson", ".jsonl")
# Refuse archives that would unpack to more than this (zip bombs); a day of IH is far smaller.
MAX_UNPACKED_BYTES = 8 * 1024**3


def read_into(con: duckdb.DuckDBPyConnection, path: Path, file_type: str, table: str,
              hive_partitioning: bool = False) -> int:
    """Create temp table `table` with the file's rows plus a 1-based `_row_in_file`; return rows."""
    with tempfile.TemporaryDirectory(prefix="valuemarts-unpack-") as tmp:
        reader = _reader_sql(path, file_type, Path(tmp), hive_partitioning)
        try:
            con.execute(f"create or replace temp table {table} as "
                        f"select *, row_number() over () as {ROW_NUMBER} from {reader}")
        except duckdb.Error as exc:
            raise InputFileError(str(path), f"cannot read as {file_type}: {_first_line(exc)}") from exc
    (rows,) = con.execute(f"select count(*) from {table}").fetchone()
    return rows


def _reader_sql(path: Path, file_type: str, tmp: Path, hive: bool) -> str:
    name = path.name.lower()
    if file_type == "parquet" or name.endswith(".parquet"):
        return f"read_parquet({_lit(path)}, hive_partitioning = {str(hive).lower()}, union_by_name = true)"
    if file_type == "csv" or name.endswith((".csv", ".tsv", ".txt")):
        return f"read_csv({_lit(path)}, auto_detect = true, header = true, sample_size = -1)"
    if file_type == "xlsx" or name.endswith(".xlsx"):
        return f"read_xlsx({_lit(path)}, header = true)"
    if name.endswith(".zip"):
        members = _unpack_zip(path, tmp)
    elif name.endswith((".tgz", ".tar.gz")):
        members = _unpack_tar(path, tmp)
    else:
        members = [path]
    files = "[" + ", ".join(_lit(m) for m in members) + "]"
    return f"read_json({files}, format = 'auto', union_by_name = true, sample_size = -1)"


def _unpack_zip(path: Path, tmp: Path) -> list[Path]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist()
                       if not i.is_dir() and i.filename.lower().endswith(_JSON_MEMBER_SUFFIXES)]
            _check_size(path, sum(i.file_size for i in members))
            out = []
            for index, info in enumerate(members):
                # Written under our own names: a member path can't escape the temp folder.
                target = tmp / f"member-{index}.json"
                with archive.open(info) as src, target.open("wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                out.append(target)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputFileError(str(path), f"not a readable zip archive: {exc}") from exc
    if not out:
        raise InputFileError(str(path), "the archive holds no .json/.ndjson member (expected a Pega dataset export)")
    return out


def _unpack_tar(path: Path, tmp: Path) -> list[Path]:
    try:
        with tarfile.open(path) as archive:
            members = [m for m in archive.getmembers()
                       if m.isfile() and m.name.lower().endswith(_JSON_MEMBER_SUFFIXES)]
            _check_size(path, sum(m.size for m in members))
            out = []
            for index, member in enumerate(members):
                target = tmp / f"member-{index}.json"
                source = archive.extractfile(member)
                if source is not None:
                    target.write_bytes(source.read())
                    out.append(target)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputFileError(str(path), f"not a readable tar archive: {exc}") from exc
    if not out:
        raise InputFileError(str(path), "the archive holds no .json/.ndjson member (expected a Pega dataset export)")
    return out


def _check_size(path: Path, unpacked: int) -> None:
    if unpacked > MAX_UNPACKED_BYTES:
        raise InputFileError(str(path), f"archive unpacks to {unpacked} bytes, over the {MAX_UNPACKED_BYTES} limit")


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
