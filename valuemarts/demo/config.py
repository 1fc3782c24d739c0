"""The demo's config: the shipped template with its input-file keys changed and the demo
experiments' design declared.

Users bring configs like the template, so the demo must build with it unchanged except where the
demo's files differ from what the template expects (their type, name pattern and grouping), and
where it says what only the demo knows: its experiments assign arms per customer in equal shares.
"""

from __future__ import annotations

import json
import tomllib
from importlib import resources

IH_FILES = {
    "zip": {"file_type": "pega_ds_export", "file_pattern": "**/*.zip",
            "ih_group_pattern": r"\d{8}(?=\d{6}_)", "hive_partitioning": False},
    # the day right before ".json": a bare \d{8} would also match digits in the folder path
    "json": {"file_type": "pega_ds_export", "file_pattern": "**/*.json",
             "ih_group_pattern": r"\d{8}(?=\.json)", "hive_partitioning": False},
    "parquet": {"file_type": "parquet", "file_pattern": "**/*.parquet",
                "ih_group_pattern": "Day=([^/]+)", "hive_partitioning": True},
}
HOLDINGS_FILES = {
    "zip": {"file_type": "pega_ds_export", "file_pattern": "**/*.zip", "file_group_pattern": "(.*)"},
    "parquet": {"file_type": "parquet", "file_pattern": "**/*.parquet", "file_group_pattern": "(.*)"},
    "csv": {"file_type": "csv", "file_pattern": "**/*.csv", "file_group_pattern": "(.*)"},
    "xlsx": {"file_type": "xlsx", "file_pattern": "**/*.xlsx", "file_group_pattern": "(.*)"},
}


# The demo data's experiment design (valuemarts.demo.ih: arms drawn per subject, uniformly), so
# the sample-ratio check tests the split it was meant to have.
EXPERIMENT_DESIGN = (
    "# The demo's design: arms are assigned per customer (SubjectID), in equal shares within each\n"
    "# experiment (PriorityWeights: Control, WeightA, WeightB; BannerColour: Control, Orange).\n"
    'randomization_unit = "SubjectID"\n'
    "expected_split = { Control = 1, WeightA = 1, WeightB = 1, Orange = 1 }\n"
)


def template_toml() -> str:
    """The reference system's config template, verbatim."""
    return (resources.files("valuemarts.demo") / "config_template.toml").read_text(encoding="utf-8")


def demo_config_toml(ih_format: str, holdings_format: str) -> str:
    """The template with its [ih] and [holdings] file keys set for the given demo formats."""
    if ih_format not in IH_FILES or holdings_format not in HOLDINGS_FILES:
        raise ValueError(f"unknown formats {ih_format!r}/{holdings_format!r}; expected IH one of "
                         f"{', '.join(IH_FILES)} and holdings one of {', '.join(HOLDINGS_FILES)}")
    text = _set_keys(template_toml(), "ih", IH_FILES[ih_format])
    text = _set_keys(text, "holdings", HOLDINGS_FILES[holdings_format])
    text = _append_to_table(text, "metrics.experiment", EXPERIMENT_DESIGN)
    parsed = tomllib.loads(text)
    for table, wanted in (("ih", IH_FILES[ih_format]), ("holdings", HOLDINGS_FILES[holdings_format])):
        if any(parsed[table].get(key) != value for key, value in wanted.items()):
            raise RuntimeError(f"config template has no [{table}] key for one of {sorted(wanted)}")
    return text


def _append_to_table(text: str, table: str, lines: str) -> str:
    """`lines` added at the end of [table] (before the blank lines that end it)."""
    out = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(out) if line.strip() == f"[{table}]")
    end = next((i for i in range(start + 1, len(out)) if out[i].lstrip().startswith("[")), len(out))
    while end > start + 1 and not out[end - 1].strip():
        end -= 1
    return "".join(out[:end] + [lines] + out[end:])


def _set_keys(text: str, table: str, values: dict[str, str | bool]) -> str:
    """Rewrite the `key = value` lines of [table] whose value differs; all other lines stay as they are."""
    lines = text.splitlines(keepends=True)
    inside = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.startswith(f"[{table}]")
        elif inside and "=" in stripped:
            key = stripped.split("=", 1)[0].strip()
            if key in values and tomllib.loads(line)[key] != values[key]:
                lines[i] = f"{key} = {json.dumps(values[key])}\n"
    return "".join(lines)
