"""Hand-made Pega export files for tests: small, explicit rows in the formats users have."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

MINIMAL_CONFIG = """
[ih]
file_type = "pega_ds_export"
file_pattern = "**/*.zip"
ih_group_pattern = "\\\\d{8}(?=\\\\d{6}_)"

[ih.extensions]
filter = "pl.col('Channel').is_not_null()"
columns = ""

[ih.extensions.default_values]
ModelControlGroup = 'Test'
ExperimentName = 'N/A'
ExperimentGroup = 'N/A'

[holdings]
file_type = "pega_ds_export"
file_pattern = "**/*.zip"
file_group_pattern = "(.*)"

[holdings.extensions]
filter = ""
columns = ""

[metrics]
global_filters = ["Channel"]

[metrics.engagement]
group_by = ["Day", "Channel", "Issue", "Group"]
positive_model_response = ["Clicked"]
negative_model_response = ["Impression", "Pending"]
"""


def ih_row(interaction: str, outcome: str, *, name: str = "Gold", rank: int = 1, time: str = "20241010T145658.123 GMT",
           subject: str = "C1", channel: str | None = "Web", **extra) -> dict:
    row = {"pxInteractionID": interaction, "pySubjectID": subject, "pyIssue": "Sales", "pyGroup": "Cards",
           "pyName": name, "pxRank": rank, "pyOutcome": outcome, "pxOutcomeTime": time,
           "pxDecisionTime": "20241010T145600.000 GMT", "pyPropensity": 0.02, "pyChannel": channel}
    row.update(extra)
    return row


def write_export_zip(path: Path, rows: list[dict], member: str = "data.json") -> Path:
    """A Pega dataset-export zip: one NDJSON member."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, "\n".join(json.dumps(r) for r in rows) + ("\n" if rows else ""))
    return path


def export_name(day: str, seq: int = 1) -> str:
    """A file name the template's group pattern `\\d{8}(?=\\d{6}_)` groups by day."""
    return f"ih-export-{day}000000_{seq:03d}.zip"
