"""Where a config key sits in TOML text, so the compiler's messages (`reports.daily_ctr.x: ...`)
can be shown next to the offending line; and the diff of two config texts."""

from __future__ import annotations

import difflib
import re

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-.]+)\s*=""")
_INDEX = re.compile(r"\[\d+\]")


def key_lines(text: str) -> dict[str, int]:
    """Every table and key path of the text -> its 0-based line (the first, if repeated).

    Lines inside multi-line strings are skipped, so a `key = ...` inside a docstring-like value
    is not taken for a key.

    Examples
    --------
    >>> key_lines("[ih]\\nfile_type = 'zip'\\n[ih.extensions]\\nfilter = \'\'\'\\nx = 1\\n\'\'\'")
    {'ih': 0, 'ih.file_type': 1, 'ih.extensions': 2, 'ih.extensions.filter': 3}
    """
    found: dict[str, int] = {}
    table: list[str] = []
    in_string: str | None = None
    for number, line in enumerate(text.splitlines()):
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header:
            table = _split(header.group(1))
            for depth in range(1, len(table) + 1):   # `[reports.x]` also opens the implied `reports`
                found.setdefault(".".join(table[:depth]), number)
            continue
        key = _KEY.match(line)
        if key:
            found.setdefault(".".join(table + _split(key.group(1))), number)
            value = line[key.end():]
            for quote in ('"""', "'''"):
                if value.count(quote) % 2 == 1:
                    in_string = quote
    return found


def key_line(text: str, key: str) -> int | None:
    """The line of a compiler key path (`reports.x.group_by[0]`), or of the nearest table
    holding it; None when no part of it is in the text (a key the compiler adds)."""
    lines = key_lines(text)
    parts = _split(_INDEX.sub("", key))
    while parts:
        if ".".join(parts) in lines:
            return lines[".".join(parts)]
        parts = parts[:-1]
    return None


def diff(active: str, edited: str, active_name: str = "active", edited_name: str = "edited") -> str:
    """A unified diff of the edited config against the active one ("" when they are the same)."""
    return "".join(difflib.unified_diff(active.splitlines(keepends=True), edited.splitlines(keepends=True),
                                        fromfile=active_name, tofile=edited_name))


def _split(path: str) -> list[str]:
    """A dotted TOML key into its parts, quotes removed (`a."b.c"` -> [a, b.c])."""
    return [p.strip().strip("\"'") for p in re.findall(r'"[^"]*"|\'[^\']*\'|[^.]+', path)]
