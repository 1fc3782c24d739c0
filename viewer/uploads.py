"""Files uploaded in the browser, kept where a build can read them (and later builds find them
again): `<warehouse folder>/uploads/<ih|holdings>/<time>/`. Only the file name of an upload is
kept, so a name can't point elsewhere, and only the formats `load` reads are accepted."""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from pathlib import Path

from valuemarts.api import max_upload_bytes
from valuemarts.errors import ValueMartsError

SUFFIXES = (".zip", ".parquet", ".json", ".csv", ".xlsx")
SIDES = {"ih": "Interaction History", "holdings": "Product Holdings"}


def save_uploads(files: Mapping[str, bytes | str], warehouse: Path, side: str) -> Path:
    """Write uploaded files to a new folder for `side` and return it.

    Raises
    ------
    ValueMartsError
        No file, a format `load` doesn't read, a name without a usable file name, or a file
        over the upload limit (the archive limit of `load`, VALUEMARTS_ARCHIVE_MAX_BYTES).
        Nothing is written then.
    """
    if side not in SIDES:
        raise ValueMartsError(f"unknown side {side!r}; expected one of {', '.join(SIDES)}")
    if not files:
        raise ValueMartsError("no file uploaded")
    limit = max_upload_bytes()
    contents = {}
    for name, content in files.items():
        safe = Path(name.replace("\\", "/")).name
        if not safe or safe in (".", ".."):
            raise ValueMartsError(f"{name!r}: not a file name")
        if not safe.lower().endswith(SUFFIXES):
            raise ValueMartsError(f"{safe}: not a format the loader reads ({', '.join(SUFFIXES)})")
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        if len(data) > limit:
            raise ValueMartsError(f"{safe}: {len(data)} bytes, over the upload limit of {limit} bytes "
                                  "(VALUEMARTS_ARCHIVE_MAX_BYTES)")
        contents[safe] = data
    folder = warehouse.parent / "uploads" / side / time.strftime("%Y%m%d-%H%M%S")
    folder = _fresh(folder)
    folder.mkdir(parents=True)
    for safe, data in contents.items():
        (folder / safe).write_bytes(data)
    return folder


def discard(folder: Path) -> None:
    """Remove an upload folder whose build failed: its files never landed."""
    shutil.rmtree(folder, ignore_errors=True)


def _fresh(folder: Path) -> Path:
    candidate, n = folder, 1
    while candidate.exists():
        n += 1
        candidate = folder.with_name(f"{folder.name}-{n}")
    return candidate
