"""An independent reading of raw demo exports in Polars: the reference the marts are checked
against. It follows docs/metrics.md directly, sharing no code with the pipeline."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl

DEFAULTS = {"ModelControlGroup": "Test", "PlacementType": "N/A", "ExperimentName": "N/A",
            "ExperimentGroup": "N/A", "PropensitySource": "N/A", "ConversionEventID": "N/A"}
FLOAT_DEFAULTS = {"FinalPropensity": 0.0, "Revenue": 0.0, "Priority": 1e-10}


def _rename(columns: list[str]) -> dict[str, str]:
    out = {}
    for c in columns:
        stripped = re.sub(r"^p[xyz]", "", c)
        kept = c if stripped != c and stripped in columns else stripped
        out[c] = kept[:1].upper() + kept[1:]
    return out


def read_ih_zips(folder: Path) -> pl.DataFrame:
    """All export zips of a folder, in file order, with the file's position for 'latest wins'."""
    frames = []
    for file_index, path in enumerate(sorted(folder.rglob("*.zip"))):
        with zipfile.ZipFile(path) as archive:
            frame = pl.read_ndjson(archive.read("data.json"), infer_schema_length=None)
        frames.append(frame.with_columns(pl.lit(file_index).alias("_file"), pl.int_range(pl.len()).alias("_row")))
    raw = pl.concat(frames, how="diagonal_relaxed")
    return raw.rename(_rename(raw.columns))


def staged(raw: pl.DataFrame) -> pl.DataFrame:
    """Defaults, global filter (Channel not null), dedup (latest file, then first row), the
    template's ConversionEventID rule, UTC calendar fields."""
    df = raw
    for column, value in {**DEFAULTS, **FLOAT_DEFAULTS}.items():
        df = df.with_columns(pl.col(column).fill_null(value)) if column in df.columns else df.with_columns(pl.lit(value).alias(column))
    df = df.filter(pl.col("Channel").is_not_null())
    df = df.with_columns(
        (pl.col("Issue") + "/" + pl.col("Group") + "/" + pl.col("Name")).alias("ActionID"),
        pl.col("OutcomeTime").str.strptime(pl.Datetime("ms"), "%Y%m%dT%H%M%S%.3f GMT").alias("OutcomeTs"),
    )
    df = (df.sort(["_file", "_row"], descending=[True, False])
            .unique(["InteractionID", "ActionID", "Rank", "Outcome"], keep="first", maintain_order=True))
    return df.with_columns(
        pl.when(pl.col("ConversionEventID") != "").then(pl.col("ConversionEventID")).otherwise(pl.col("Name"))
        .alias("ConversionEventID"),
        pl.col("OutcomeTs").dt.date().alias("Day"),
        pl.col("OutcomeTs").dt.strftime("%Y-%m").alias("Month"),
        pl.col("OutcomeTs").dt.year().cast(pl.Int16).alias("Year"),
    )


def labelled(df: pl.DataFrame, positive: list[str], negative: list[str]) -> pl.DataFrame:
    """One row per (InteractionID, ActionID, Rank): y = any positive; the deciding row (earliest
    positive, else earliest negative; by OutcomeTime then Outcome) supplies the other columns."""
    rows = df.filter(pl.col("Outcome").is_in(positive + negative)).with_columns(
        pl.col("Outcome").is_in(positive).cast(pl.Int64).alias("y"))
    return (rows.sort(["y", "OutcomeTs", "Outcome"], descending=[True, False, False])
                .unique(["InteractionID", "ActionID", "Rank"], keep="first", maintain_order=True))
