"""Physical line numbers: where a CSV record starts in its file, as an editor shows it.

DuckDB numbers what it reads, not the file's lines: a data row's number (row_number()) skips
blank lines and counts a quoted field spanning three lines as one, and its own error messages
("CSV Error on Line: N") count records with blank lines but still one per quoted multi-line
field. Every line a user is shown (rejects, the set-aside line, errors, `funnel trace`) is
turned into the 1-based physical line of the record's first character here, by reading the
file (the one DuckDB read: an LF or transcoded copy keeps the original's lines) once with
Python's csv module, up to the last record asked for. CRLF counts as one line break, a BOM is
no line, and a field of any length is read (csv's field size limit is lifted while scanning).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from funnelcli.sql.readers import Dialect


@dataclass(frozen=True)
class Layout:
    """What the scan must know of a file: its quoting and the encoding DuckDB reads it in."""

    path: str
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    encoding: str = "utf-8"

    @classmethod
    def of(cls, path: str, dialect: Dialect | None, delimiter: str | None, encoding: str) -> Layout:
        """The layout of a file DuckDB reads with `dialect` (sniffed once), else with the
        declared `delimiter` and standard quoting."""
        if dialect is None:
            return cls(path, delimiter=delimiter or ",", encoding=encoding)
        return cls(path, dialect.delimiter, dialect.quote, dialect.escape, encoding)

    def data_rows(self, rows: Collection[int]) -> dict[int, int]:
        """Data row number (1-based, header and blank lines not counted: DuckDB's
        row_number()) → the physical line it starts on, for each of `rows` the file has."""
        return self._scan(set(rows), data=True)

    def records(self, records: Collection[int]) -> dict[int, int]:
        """DuckDB's error line (the header is 1, blank lines counted) → the physical line."""
        return self._scan(set(records), data=False)

    def first_longer(self, size: int) -> int | None:
        """The physical line of the first record longer than `size` characters (bytes in
        Latin-1 or ASCII text: DuckDB's max_line_size), None if there is none."""
        start = 1
        if not self._readable:
            return None
        try:
            with _lifted_field_limit(), self._open() as handle:
                reader = self._reader(handle)
                for fields in reader:
                    if sum(map(len, fields)) + len(fields) > size:
                        return start
                    start = reader.line_num + 1
        except (OSError, EOFError, csv.Error):
            pass
        return None

    def _scan(self, wanted: set[int], *, data: bool) -> dict[int, int]:
        found: dict[int, int] = {}
        if not wanted or not self._readable:
            return found
        last = max(wanted)
        number = 0
        start = 1  # the physical line the next record starts on
        try:
            with _lifted_field_limit(), self._open() as handle:
                reader = self._reader(handle)
                for i, fields in enumerate(reader):
                    if data:
                        counted = i > 0 and bool(fields)
                        number += counted
                    else:
                        counted, number = True, i + 1
                    if counted and number in wanted:
                        found[number] = start
                        if number >= last:
                            break
                    start = reader.line_num + 1
        except (OSError, EOFError, csv.Error):
            pass  # the numbers found so far; a caller keeps its own for the rest
        return found

    @property
    def _readable(self) -> bool:
        """Whether csv can read the file as DuckDB does (one-character delimiter and quoting;
        else the caller keeps DuckDB's own numbers)."""
        return len(self.delimiter) == 1 and len(self.quote) <= 1 and len(self.escape) <= 1

    def _reader(self, handle: TextIO) -> Any:
        """csv's reader with DuckDB's quoting: a doubled quote, or an escape character."""
        if not self.quote:
            return csv.reader(handle, delimiter=self.delimiter, quoting=csv.QUOTE_NONE)
        escaped = bool(self.escape) and self.escape != self.quote
        return csv.reader(
            handle,
            delimiter=self.delimiter,
            quotechar=self.quote,
            doublequote=not escaped,
            escapechar=self.escape if escaped else None,
            strict=False,
        )

    def _open(self) -> TextIO:
        # Latin-1 maps every byte to one character: newlines, quotes and an ASCII delimiter
        # are found wherever they are in UTF-8 or Latin-1 text, and no byte is an error.
        encoding = self.encoding if self.encoding.startswith("utf-16") else "latin-1"
        if not self.delimiter.isascii() or not self.quote.isascii():
            encoding = "utf-8"
        if self.path.lower().endswith(".gz"):
            return gzip.open(self.path, "rt", encoding=encoding, errors="replace", newline="")
        return open(self.path, encoding=encoding, errors="replace", newline="")


def physical(layout: Layout | None, rows: Collection[int]) -> dict[int, int]:
    """Data row → physical line for `rows`; without a layout (a converted sheet: its rows
    are the lines a user sees) row + 1, the header being line 1."""
    found = layout.data_rows(rows) if layout is not None else {}
    return {row: found.get(row, row + 1) for row in rows}


@contextmanager
def _lifted_field_limit() -> Iterator[None]:
    before = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(before)
