"""Reading TOML values the way the reference system accepts them, with key-path errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from valuemarts.errors import ConfigError, ConfigErrors

_TRUE = {"y", "yes", "t", "true", "on", "1"}
_FALSE = {"n", "no", "f", "false", "off", "0"}


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed config and its text; a syntax error names the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigErrors([ConfigError(str(path), f"cannot read config: {exc.strerror}")]) from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigErrors([ConfigError(str(path), f"invalid TOML: {exc}")]) from exc


def bool_like(value: Any, key: str, default: bool = False) -> bool:
    """bool, int, or y/yes/t/true/on/1 and n/no/f/false/off/0 (the reference's strtobool)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(key, f"expected a boolean (true/false, yes/no, 1/0), got {value!r}")


def string_list(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(key, f"expected a list of strings, got {value!r}")
    return list(dict.fromkeys(value))


def string(value: Any, key: str, default: str | None = None) -> str | None:
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConfigError(key, f"expected a string, got {value!r}")
    return value


def table(value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(key, f"expected a table, got {value!r}")
    return value
