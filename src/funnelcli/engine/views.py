"""Source views: how each declared source becomes the view `source_<name>`, and what it rejects.

A Parquet source is read as it is. A CSV (or a transcoded text file, or a converted .xlsx sheet)
is probed once (probe.py) and then read in a ReadMode: `fast` (DuckDB's reader types each time
column with one plain format itself; a value that does not fit fails the read) or `tolerant`
(times read as text and parsed; a row with a time that cannot be read is rejected and listed
with its file, line, column and reason). Views start fast; the first read that fails switches
every fast one to tolerant (SourceViews.tolerate). Views are values: CsvSource.view(mode) builds
one and changes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from funnelcli.engine.files import SourceFiles, is_xlsx
from funnelcli.engine.lines import Layout, physical
from funnelcli.sql import readers
from funnelcli.sql.ast import source_view, table
from funnelcli.sql.readers import Dialect, RejectCheck, TimeColumn

if TYPE_CHECKING:
    from funnelcli.engine.session import Session


class ReadMode(enum.Enum):
    """How a CSV source's time columns are read (see the module docstring)."""

    fast = "fast"
    tolerant = "tolerant"


@dataclass(frozen=True)
class SourceView:
    """A view's body and the per-value reject checks it applies (none for a fast column)."""

    select: exp.Select
    checks: tuple[RejectCheck, ...]


@dataclass(frozen=True)
class CsvSource:
    """What probing a CSV source found: the files DuckDB opens (originals or readable copies),
    their dialect and headers, and how each time column is read."""

    originals: tuple[Path, ...]
    paths: tuple[str, ...]
    encoding: str
    delimiter: str | None
    types: Mapping[str, str]  # raw header → type every reading declares (VARCHAR)
    headers: tuple[str, ...]
    renames: Mapping[str, str]  # raw header → the view's column name
    times: tuple[TimeColumn, ...]
    tz: str | None
    dialect: Dialect | None = None  # single file: sniffed once, then declared

    def reader(self, paths: Sequence[str] | None = None) -> exp.Expr:
        """The reader with every time column as text (rejects are found over this one)."""
        return readers.csv_reader(
            paths or self.paths,
            self.encoding,
            self.delimiter,
            dict(self.types),
            dialect=self.dialect,
        )

    def layout(self, index: int) -> Layout | None:
        """How to find the physical lines of the `index`th file (None: a converted sheet,
        whose rows are the lines a user sees)."""
        if is_xlsx(self.originals[index]):
            return None
        return Layout.of(self.paths[index], self.dialect, self.delimiter, self.encoding)

    @property
    def types_natively(self) -> bool:
        """Whether the fast reading types any time column itself (else both modes read alike)."""
        return bool(readers.native_times(self.times)[0])

    def view(self, mode: ReadMode) -> SourceView:
        native, formats = readers.native_times(self.times) if mode is ReadMode.fast else ({}, {})
        reader = readers.csv_reader(
            self.paths,
            self.encoding,
            self.delimiter,
            {**self.types, **native},
            formats=formats,
            dialect=self.dialect,
        )
        projection, checks = readers.view_parts(
            self.headers, dict(self.renames), self.times, self.tz, list(native)
        )
        return SourceView(readers.view_select(reader, projection, checks), tuple(checks))

    def numbered(self, mode: ReadMode) -> exp.Select:
        """The view with `__row`: each row's 1-based number among its files' data rows,
        counted before rejected rows are set aside (`funnel trace`)."""
        native, formats = readers.native_times(self.times) if mode is ReadMode.fast else ({}, {})
        reader = readers.csv_reader(
            self.paths,
            self.encoding,
            self.delimiter,
            {**self.types, **native},
            formats=formats,
            dialect=self.dialect,
        )
        projection, checks = readers.view_parts(
            self.headers, dict(self.renames), self.times, self.tz, list(native)
        )
        numbered = exp.select(
            exp.Star(), exp.alias_(exp.Window(this=exp.RowNumber()), ROW, quoted=True)
        ).from_(reader)
        projection.append(exp.column(ROW, quoted=True))
        return readers.view_select(numbered.subquery("n"), projection, checks)


ROW = "__row"  # CsvSource.numbered's row number column


@dataclass(frozen=True)
class Reject:
    """One value set aside: where it is (original file, line with the header as line 1), why."""

    source: str
    file: str
    line: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class SetAside:
    """Rows of one source set aside (a time that cannot be read), with the first example."""

    source: str
    file: str  # the (first) file's name
    rows: int
    total: int  # rows in the source's files
    first: Reject | None


def parquet_view(found: SourceFiles) -> exp.Select:
    return exp.select(exp.Star()).from_(readers.parquet_reader([str(f) for f in found.files]))


def create_view(session: Session, name: str, body: exp.Expr, *, replace: bool = False) -> str:
    """Create (or replace) the source's view over `body`; its SQL."""
    view = exp.Create(this=table(source_view(name)), kind="VIEW", expression=body, replace=replace)
    sql = view.sql(dialect="duckdb")
    session.run(sql, source=name)
    return sql


class SourceViews:
    """The CSV sources' readings and the mode each is read in now: the one thing about an
    engine's views that changes while it runs."""

    def __init__(
        self, session: Session, csv: Mapping[str, CsvSource], modes: Mapping[str, ReadMode]
    ) -> None:
        self._session = session
        self._csv = dict(csv)
        self._modes = dict(modes)
        self._counted: dict[tuple[str, ReadMode], tuple[int, ...]] = {}

    def readings(self) -> dict[str, tuple[CsvSource, ReadMode]]:
        """Each CSV source's probed reading and the mode it is read in now."""
        return {name: (csv, self._modes[name]) for name, csv in self._csv.items()}

    def modes(self) -> dict[str, str]:
        """Each CSV source's read mode now (part of every stored result's key)."""
        return {name: mode.value for name, mode in self._modes.items()}

    def tolerate(self) -> list[str]:
        """Re-create every view still read fast as tolerant (text, parsed, rejects); the
        sources switched (none when no view was fast)."""
        switched = [
            name
            for name, csv in self._csv.items()
            if self._modes[name] is ReadMode.fast and csv.types_natively
        ]
        for name in switched:
            self._modes[name] = ReadMode.tolerant
            body = self._csv[name].view(ReadMode.tolerant).select
            create_view(self._session, name, body, replace=True)
        return switched

    def reject_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """(rows rejected per source, values rejected per reason) over every source."""
        rows: dict[str, int] = {}
        reasons: dict[str, int] = {}
        for name, _csv, checks in self._checked():
            counts = self._counts(name)
            rows[name] = counts[0]
            for check, count in zip(checks, counts[2:], strict=True):
                if count:
                    reasons[check.reason] = reasons.get(check.reason, 0) + count
        return rows, reasons

    def date_formats(self, name: str) -> dict[str, tuple[str, ...]]:
        """A CSV source's time columns (view names) → the formats each is read with; none for
        a source that is not a CSV."""
        csv = self._csv.get(name)
        return {t.name: t.readings for t in csv.times} if csv is not None else {}

    def set_aside(self) -> list[SetAside]:
        """Per source that set rows aside: how many of how many, and the first rejected value."""
        found = []
        for name, csv, checks in self._checked():
            rejected, total = self._counts(name)[:2]
            if not rejected:
                continue
            first = None
            for index in range(len(csv.paths)):
                query = readers.detail_query(csv.reader([csv.paths[index]]), checks).limit(1)
                located = self._located(name, csv, index, query)
                if located:
                    first = located[0]
                    break
            found.append(SetAside(name, csv.originals[0].name, rejected, total, first))
        return found

    def _counts(self, name: str) -> tuple[int, ...]:
        """(rows rejected, rows, then each check's count) of a source in its mode now (one
        pass, kept: reports, set-aside lines and thresholds ask for it several times)."""
        mode = self._modes[name]
        key = (name, mode)
        if key not in self._counted:
            checks = self._csv[name].view(mode).checks
            if not checks:
                self._counted[key] = (0, 0)
            else:
                query = readers.count_query(self._csv[name].reader(), checks)
                self._counted[key] = tuple(
                    int(c or 0) for c in self._session.fetch(query, source=name)[0]
                )
        return self._counted[key]

    def rejects(self) -> list[Reject]:
        """Every rejected value, file by file in line order."""
        out: list[Reject] = []
        for name, csv, checks in self._checked():
            if not checks:
                continue
            for index in range(len(csv.paths)):
                query = readers.detail_query(csv.reader([csv.paths[index]]), checks)
                out += self._located(name, csv, index, query)
        return out

    def rejects_of(self, name: str, column: str, value: str) -> list[Reject]:
        """The rejected values of one source's rows whose `column` (the view's name) is
        `value` (`funnel trace`), in line order."""
        csv = self._csv.get(name)
        checks = csv.view(self._modes[name]).checks if csv is not None else ()
        if csv is None or not checks:
            return []
        raw = next((r for r, view_name in csv.renames.items() if view_name == column), column)
        out: list[Reject] = []
        for index in range(len(csv.paths)):
            query = readers.detail_query(csv.reader([csv.paths[index]]), checks, (raw, value))
            out += self._located(name, csv, index, query)
        return out

    def _located(self, name: str, csv: CsvSource, index: int, query: exp.Expr) -> list[Reject]:
        """The rejects `query` (a detail_query over the `index`th file) finds, each at the
        physical line its row starts on (engine/lines.py)."""
        found = self._session.fetch(query, source=name)
        lines = physical(csv.layout(index), {int(r[0]) - 1 for r in found})
        original = str(csv.originals[index])
        return [
            Reject(name, original, lines[int(line) - 1], column, value, reason)
            for line, column, value, reason in found
        ]

    def lines_of(self, name: str, rows: set[int]) -> dict[int, int]:
        """Row numbers of a one-file CSV source's rows (in file order, header not counted) →
        the physical lines they start on; empty for any other source (a glob, Parquet)."""
        csv = self._csv.get(name)
        if csv is None or len(csv.paths) != 1:
            return {}
        return physical(csv.layout(0), rows)

    def numbered(self, name: str) -> exp.Select | None:
        """A CSV source's rows numbered as in its files, in its current mode (None: not CSV)."""
        csv = self._csv.get(name)
        return csv.numbered(self._modes[name]) if csv is not None else None

    def _checked(self) -> list[tuple[str, CsvSource, tuple[RejectCheck, ...]]]:
        return [(n, csv, csv.view(self._modes[n]).checks) for n, csv in self._csv.items()]


def locate_query(rows: exp.Expr, column: str, bad: exp.Expr) -> exp.Select:
    """(row_no, text) of the first of `rows`, in scan order, where `bad` holds of `column`."""
    numbered = exp.select(
        exp.alias_(exp.Window(this=exp.RowNumber()), "row_no"),
        exp.alias_(exp.cast(exp.column(column, quoted=True), "VARCHAR"), "text"),
        exp.alias_(bad, "bad"),
    ).from_(rows)
    return (
        exp.select(exp.column("row_no"), exp.column("text"))
        .from_(numbered.subquery("t"))
        .where(exp.column("bad"))
        .order_by("row_no")
        .limit(1)
    )
