"""The one error hierarchy: every failure a user can cause becomes a FunnelError with a location."""

from __future__ import annotations


class FunnelError(Exception):
    """Base of every error the CLI reports as one readable line (exit code 1)."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SpecError(FunnelError):
    """A problem in the YAML definition: names the file, the line and the key path."""

    def __init__(
        self, message: str, *, file: str | None = None, line: int | None = None, key: str = ""
    ) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.key = key

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


class SpecConflict(SpecError):
    """Two keys of the definition that do not go together (exit code 2, like a usage error)."""

    exit_code = 2


class DataError(FunnelError):
    """A problem in an input data file: names the file and, where known, the row and column."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.row = row
        self.column = column
        self.line = line  # line in the file (the header is line 1), when known

    def __str__(self) -> str:
        parts = [p for p in (self.file, f"row {self.row}" if self.row else None) if p]
        if self.line:
            parts.append(f"line {self.line}")
        where = ":".join(parts)
        col = f"column '{self.column}': " if self.column else ""
        return f"{where}: {col}{self.message}" if where else f"{col}{self.message}"


class DayMonthError(DataError):
    """A date column whose day/month order its values do not decide (or decide both ways)."""


class QueryError(FunnelError):
    """DuckDB failed on SQL we generated: a bug or an unsupported input; carries the SQL."""

    def __init__(self, message: str, *, sql: str = "") -> None:
        super().__init__(message)
        self.sql = sql


class UsageError(FunnelError):
    """A bad command-line value (exit code 2, like a typer usage error)."""

    exit_code = 2
