"""Find export files and their file groups, as the reference system does (docs/metrics.md#staging-rules)."""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

from valuemarts.errors import ValueMartsError


@dataclass(frozen=True)
class DiscoveredFile:
    path: Path
    group: str


def discover(paths: list[str | Path], file_pattern: str, group_pattern: str,
             pattern_key: str = "file_pattern") -> list[DiscoveredFile]:
    """Each PATH is a file, a folder searched recursively with `file_pattern`, or a glob. A PATH
    that matches no file is an error naming it and the pattern (`pattern_key` says where the
    pattern comes from), never an empty load that looks like success.

    The file group is the first match of `group_pattern` on the absolute path (its first capture
    group when it has one), else the file name. Files come back sorted by group, then path: the
    load order, which decides which duplicate wins (the later one).
    """
    regex = re.compile(group_pattern)
    found: dict[Path, DiscoveredFile] = {}
    for entry in paths:
        matched = _expand(Path(entry), file_pattern)
        if not matched:
            raise ValueMartsError(f"{entry}: no file in this folder matches {file_pattern!r} ({pattern_key})"
                                  + ("" if file_pattern == "**/*.json" else " nor the Pega export fallback '**/*.json'"))
        for path in matched:
            matches = regex.findall(str(path))
            group = matches[0] if matches else path.name
            if isinstance(group, tuple):
                group = group[0]
            found[path] = DiscoveredFile(path=path, group=str(group))
    return sorted(found.values(), key=lambda f: (f.group, str(f.path)))


def _expand(entry: Path, file_pattern: str) -> list[Path]:
    if entry.is_file():
        return [entry.resolve()]
    if entry.is_dir():
        matches = glob.glob(str(entry / file_pattern), recursive=True)
        if not matches and file_pattern != "**/*.json":
            # The reference falls back to Pega dataset-export JSON when the pattern finds nothing.
            matches = glob.glob(str(entry / "**/*.json"), recursive=True)
        return [Path(m).resolve() for m in matches if Path(m).is_file()]
    matches = [Path(m).resolve() for m in glob.glob(str(entry), recursive=True) if Path(m).is_file()]
    if not matches:
        raise ValueMartsError(f"{entry}: no such file or folder, and no file matches it as a glob")
    return matches
