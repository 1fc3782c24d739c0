"""Error types whose messages users act on; the CLI maps them to exit code 1."""

from __future__ import annotations


class ValueMartsError(Exception):
    """Bad input: a config key, a file, a row/column or a query. Exit code 1."""


class ConfigError(ValueMartsError):
    """A problem in the TOML config, located by its dotted key path."""

    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


class ConfigErrors(ValueMartsError):
    """Every problem found in one validation pass, so users fix them all at once."""

    def __init__(self, errors: list[ConfigError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class InputFileError(ValueMartsError):
    """A data file that cannot be loaded: names the file, and the row/column when known."""

    def __init__(self, path: str, message: str, *, row: int | None = None, column: str | None = None):
        self.path = path
        self.row = row
        self.column = column
        where = path
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")
