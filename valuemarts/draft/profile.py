"""What a sample of export files holds: which side (IH or holdings), its file rules, columns,
outcome labels and the shape of its dates. Read with the loader's readers, so every format
`load` takes works here, with the same archive limits."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from valuemarts.config import schema
from valuemarts.duck import connect
from valuemarts.errors import ValueMartsError
from valuemarts.ingest.readers import open_reader
from valuemarts.sql_names import quote_ident

# The file types of the config, by file name ending.
FILE_TYPES = {".zip": "pega_ds_export", ".json": "pega_ds_export", ".parquet": "parquet", ".csv": "csv",
              ".xlsx": "xlsx"}
# Pega's export names end in the export time: interaction-UID-yyyymmddhhMMss_SSS.json.zip.
_PEGA_EXPORT_NAME = re.compile(r"\d{14}_\d{3}")
_HIVE_DAY = re.compile(r"(^|/)Day=[^/]+/")
SAMPLE_FILES = 5          # files read per sample folder: enough to see its columns and labels
SAMPLE_ROWS = 100_000     # rows profiled per file
_HOLDINGS_MARKERS = {"HoldingID", "PurchasedDate"}
_IH_MARKERS = {"InteractionID", "Outcome"}


@dataclass
class SideProfile:
    """One side's sample: IH or holdings."""

    side: str
    files: list[Path]
    file_type: str
    extension: str
    columns: dict[str, str] = field(default_factory=dict)   # staged name -> DuckDB type
    outcomes: Counter = field(default_factory=Counter)       # Outcome value -> rows (IH)
    experiments: bool = False                                # ExperimentName has real values (IH)
    purchase_date_format: str | None = None                  # strptime format of PurchasedDate (holdings)

    @property
    def group_pattern(self) -> tuple[str, bool]:
        """The file group pattern and hive partitioning the sample's names suggest."""
        names = [p.as_posix() for p in self.files]
        if all(_HIVE_DAY.search(n) for n in names):
            return "Day=([^/]+)", True
        if all(_PEGA_EXPORT_NAME.search(p.name) for p in self.files):
            return r"\d{8}(?=\d{6}_)", False
        return "(.*)", False


def profile_samples(samples: list[Path]) -> dict[str, SideProfile]:
    """Profile sample files and folders; a folder contributes up to SAMPLE_FILES files of its most
    common export type. Returns the IH and/or holdings side found.

    Raises
    ------
    ValueMartsError
        A sample that is missing, of no known type, that looks like neither IH nor holdings, or
        two samples of one side with different file types.
    """
    sides: dict[str, SideProfile] = {}
    with tempfile.TemporaryDirectory(prefix="valuemarts-init-config-") as tmp:
        con = connect()
        try:
            for sample in samples:
                for path in _sample_files(sample):
                    _profile_file(con, path, Path(tmp), sides)
        finally:
            con.close()
    return sides


def _sample_files(sample: Path) -> list[Path]:
    if sample.is_file():
        if _extension(sample) not in FILE_TYPES:
            raise ValueMartsError(f"{sample}: not a sample type init-config reads ({', '.join(FILE_TYPES)})")
        return [sample]
    if not sample.is_dir():
        raise ValueMartsError(f"{sample}: no such file or folder")
    files = sorted(p for p in sample.rglob("*") if p.is_file() and _extension(p) in FILE_TYPES)
    if not files:
        raise ValueMartsError(f"{sample}: no export files ({', '.join(FILE_TYPES)}) in this folder")
    common = Counter(_extension(p) for p in files).most_common(1)[0][0]
    return [p for p in files if _extension(p) == common][:SAMPLE_FILES]


def _extension(path: Path) -> str:
    return ".zip" if path.name.lower().endswith(".zip") else path.suffix.lower()


def _profile_file(con, path: Path, tmp: Path, sides: dict[str, SideProfile]) -> None:
    extension = _extension(path)
    reader = open_reader(con, path, FILE_TYPES[extension], tmp, hive_partitioning=False)
    renamed = schema.renamed_columns(list(reader.columns))
    columns = {renamed[raw]: data_type for raw, data_type in reader.columns.items()}
    if _IH_MARKERS <= columns.keys():
        side = "ih"
    elif _HOLDINGS_MARKERS & columns.keys():
        side = "holdings"
    else:
        raise ValueMartsError(f"{path}: neither IH (needs {', '.join(sorted(_IH_MARKERS))}) nor holdings "
                              f"(needs {' or '.join(sorted(_HOLDINGS_MARKERS))}); columns found: "
                              f"{', '.join(sorted(columns)[:20])}")
    profile = sides.setdefault(side, SideProfile(side, [], FILE_TYPES[extension], extension))
    if profile.extension != extension:
        raise ValueMartsError(f"{path}: {side} samples of two kinds ({profile.extension}, {extension}); "
                              "a config reads one file type per side")
    profile.files.append(path)
    profile.columns.update({c: t for c, t in columns.items() if c not in profile.columns})
    raw_of = {staged: raw for raw, staged in renamed.items()}
    rows = f"(select * from {reader.sql} limit {SAMPLE_ROWS})"
    if side == "ih":
        outcome = quote_ident(raw_of["Outcome"])
        for value, count in con.execute(f"select cast({outcome} as varchar), count(*) from {rows} "
                                        f"where {outcome} is not null group by 1").fetchall():
            profile.outcomes[value] += count
        if "ExperimentName" in raw_of:
            name = f"nullif(trim(cast({quote_ident(raw_of['ExperimentName'])} as varchar)), '')"
            (found,) = con.execute(f"select count(*) from {rows} where {name} is not null and {name} <> 'N/A'").fetchone()
            profile.experiments |= found > 0
    elif "PurchasedDate" in raw_of and profile.purchase_date_format is None:
        values = [v for (v,) in con.execute(f"select cast({quote_ident(raw_of['PurchasedDate'])} as varchar) "
                                            f"from {rows} where {quote_ident(raw_of['PurchasedDate'])} is not null "
                                            "limit 50").fetchall()]
        profile.purchase_date_format = purchase_date_format(values)


# Formats of PurchasedDate text, tried in order: Pega's timestamp, then ISO date and date-time.
PURCHASE_DATE_FORMATS = {
    "pega": re.compile(r"^\d{8}T\d{6}\.\d{3} [A-Z]{3,4}$"),
    "%Y-%m-%d %H:%M:%S": re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
    "%Y-%m-%d": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
}


def purchase_date_format(values: list[str]) -> str | None:
    """The first format every sample value matches ('pega' for Pega's timestamp text), else None.

    Examples
    --------
    >>> purchase_date_format(["20240105T101500.000 GMT"]), purchase_date_format(["2024-01-05"])
    ('pega', '%Y-%m-%d')
    """
    for name, pattern in PURCHASE_DATE_FORMATS.items():
        if values and all(pattern.match(v) for v in values):
            return name
    return None
