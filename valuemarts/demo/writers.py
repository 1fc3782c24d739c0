"""Write demo frames in the layouts Pega exports and users keep.

One generated frame is written in every format, so all formats carry exactly the same rows and
values (floats are written at full precision); the loader tests rely on that.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Literal, get_args

import polars as pl

from valuemarts import duck
from valuemarts.demo.ih import FILE_DAY

IhFormat = Literal["zip", "parquet", "json"]
HoldingsFormat = Literal["zip", "parquet", "csv", "xlsx"]

# What earlier runs may have left: removed before writing, so no stale day is loaded with new ones.
_IH_FILES = ("ih-export-*.zip", "ih_*.json", "Day=*/part-0.parquet")
_HOLDINGS_FILES = ("holdings-export-*.zip", "holdings.parquet", "holdings.csv", "holdings.xlsx")


def write_ih(df: pl.DataFrame, out_dir: Path, fmt: IhFormat) -> list[Path]:
    """One file per FILE_DAY directly in `out_dir`, which is created; returns the paths, by day.

    zip: Pega dataset-export archives `ih-export-YYYYMMDD235959_000.zip` holding NDJSON `data.json`;
    json: the same NDJSON as `ih_YYYYMMDD.json`; parquet: hive partitions `Day=YYYY-MM-DD/part-0.parquet`.
    Demo IH files of an earlier run in `out_dir` are removed first.
    """
    return write_ih_days(((day, part) for (day,), part in sorted(df.partition_by(FILE_DAY, as_dict=True).items())),
                         out_dir, fmt)


def write_ih_days(days: Iterable[tuple[date, pl.DataFrame]], out_dir: Path, fmt: IhFormat) -> list[Path]:
    """`write_ih` for frames that arrive one day at a time (day-by-day generation): each day's file
    is written before the next day is asked for, so only one day is in memory."""
    _check(fmt, IhFormat)
    out_dir = _fresh(Path(out_dir), _IH_FILES)
    return [write_ih_day(part, day, out_dir, fmt) for day, part in days if part.height]


def write_ih_day(rows: pl.DataFrame, day: date, out_dir: Path, fmt: IhFormat) -> Path:
    """The IH file of one `day` in `out_dir` (created), beside the files already there, as a new
    day's export arrives; a FILE_DAY column is not written."""
    _check(fmt, IhFormat)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = rows.drop(FILE_DAY, strict=False)
    if fmt == "parquet":
        path = out_dir / f"Day={day.isoformat()}" / "part-0.parquet"
        path.parent.mkdir(exist_ok=True)
        rows.write_parquet(path)
    elif fmt == "json":
        path = out_dir / f"ih_{day:%Y%m%d}.json"
        path.write_bytes(_ndjson(rows))
    else:
        path = out_dir / f"ih-export-{day:%Y%m%d}235959_000.zip"
        _write_zip(path, _ndjson(rows), day)
    return path


def write_holdings(df: pl.DataFrame, out_dir: Path, fmt: HoldingsFormat) -> list[Path]:
    """All holdings in one file directly in `out_dir`, which is created; returns [path].

    zip: a Pega dataset export `holdings-export-YYYYMMDD235959_000.zip` (date of the last purchase)
    holding NDJSON `data.json`; otherwise `holdings.parquet`, `holdings.csv` (comma, header) or
    `holdings.xlsx`. Demo holdings files of an earlier run in `out_dir` are removed first.
    """
    _check(fmt, HoldingsFormat)
    out_dir = _fresh(Path(out_dir), _HOLDINGS_FILES)
    if fmt == "zip":
        last = datetime.strptime(df["pyPurchasedDate"].max()[:8], "%Y%m%d").date()
        path = out_dir / f"holdings-export-{last:%Y%m%d}235959_000.zip"
        _write_zip(path, _ndjson(df), last)
    else:
        path = out_dir / f"holdings.{fmt}"
        if fmt == "parquet":
            df.write_parquet(path)
        elif fmt == "csv":
            df.write_csv(path)
        else:
            quoted = str(path).replace("'", "''")
            with duck.connect() as con:
                con.register("holdings", df.to_arrow())
                con.execute(f"COPY holdings TO '{quoted}' (FORMAT xlsx, HEADER true)")
    return [path]


def _check(fmt: str, formats: object) -> None:
    if fmt not in get_args(formats):
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(get_args(formats))}")


def _fresh(out_dir: Path, patterns: tuple[str, ...]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    for pattern in patterns:
        for old in out_dir.glob(pattern):
            old.unlink()
            if old.parent != out_dir and not any(old.parent.iterdir()):
                old.parent.rmdir()
    return out_dir


def _ndjson(df: pl.DataFrame) -> bytes:
    """NDJSON with null fields left out, as Pega writes them (the first column keeps its nulls)."""
    buffer = io.BytesIO()
    df.write_ndjson(buffer)
    data = buffer.getvalue()
    for column in df.columns[1:]:
        if df[column].null_count():
            data = data.replace(f',"{column}":null'.encode(), b"")
    return data


def _write_zip(path: Path, data: bytes, day: date) -> None:
    """A zip whose only member is `data.json`, stamped with `day` so the bytes are reproducible."""
    member = zipfile.ZipInfo("data.json", date_time=(day.year, day.month, day.day, 23, 59, 59))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
