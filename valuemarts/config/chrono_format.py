"""Translate chrono (Polars) strptime formats into DuckDB strptime formats.

Polars parses dates with Rust's chrono, whose specifiers differ from DuckDB's mainly in the
fractional seconds (chrono `%.3f` reads ".123", DuckDB writes that `.%g`). Unknown specifiers are
rejected rather than passed through, so a format can never silently mean something else.
"""

from __future__ import annotations

from valuemarts.config.sql_guard import TranslationError

# chrono specifier -> DuckDB specifier. Longest keys are matched first.
_SPECIFIERS: dict[str, str] = {
    "%Y": "%Y",
    "%y": "%y",
    "%m": "%m",
    "%b": "%b",
    "%h": "%b",
    "%B": "%B",
    "%d": "%d",
    "%j": "%j",
    "%a": "%a",
    "%A": "%A",
    "%H": "%H",
    "%I": "%I",
    "%p": "%p",
    "%M": "%M",
    "%S": "%S",
    "%.3f": ".%g",
    "%.6f": ".%f",
    "%.f": ".%f",
    "%.9f": ".%n",
    "%3f": "%g",
    "%6f": "%f",
    "%9f": "%n",
    "%T": "%H:%M:%S",
    "%R": "%H:%M",
    "%F": "%Y-%m-%d",
    "%D": "%m/%d/%y",
    "%Z": "%Z",  # DuckDB then returns TIMESTAMPTZ; see `has_zone_name`
    "%%": "%%",
}
_BY_LENGTH = sorted(_SPECIFIERS, key=len, reverse=True)


def to_duckdb_format(chrono: str) -> tuple[str, bool]:
    """Return the DuckDB format and whether it reads a zone name (`%Z`)."""
    out: list[str] = []
    has_zone = False
    i = 0
    while i < len(chrono):
        if chrono[i] != "%":
            out.append(chrono[i])
            i += 1
            continue
        spec = next((s for s in _BY_LENGTH if chrono.startswith(s, i)), None)
        if spec is None:
            raise TranslationError(
                f"unsupported date format specifier {chrono[i:i + 3]!r} in {chrono!r}"
            )
        has_zone |= spec == "%Z"
        out.append(_SPECIFIERS[spec])
        i += len(spec)
    return "".join(out), has_zone
