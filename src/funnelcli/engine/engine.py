"""The Engine, a locked-down DuckDB session over a funnel's declared sources (opened by
opening.open_engine): it runs queries, keeps their results with the cache (results.py), and
locates and lists the values it cannot read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from funnelcli.engine import store
from funnelcli.engine.copies import Copy
from funnelcli.engine.files import SourceFiles
from funnelcli.engine.results import ResultStore
from funnelcli.engine.session import Session
from funnelcli.engine.views import (
    ROW,
    CsvSource,
    ReadMode,
    Reject,
    SetAside,
    SourceViews,
    create_view,
    locate_query,
)
from funnelcli.errors import DataError
from funnelcli.spec import Funnel
from funnelcli.sql import amounts as money
from funnelcli.sql import tables
from funnelcli.sql.ast import source_view, table

if TYPE_CHECKING:
    from funnelcli.engine.session import Cursor
    from funnelcli.engine.spark import Remote

AMOUNT = "AMOUNT"  # pseudo-type of money columns (CompiledFunnel.typed_columns, unreadable())


class Engine:
    """A DuckDB session that can read the funnel's declared sources and nothing else.

    Made by open_engine (the constructor only keeps what it is given). With the cache, funnel
    sources are read from their Parquet copies (`copies`), while row numbers of unreadable
    values still count in the original files; and query results are kept and read back.
    """

    def __init__(
        self,
        funnel: Funnel,
        files: Mapping[str, SourceFiles],
        session: Session,
        views: SourceViews,
        folder: store.CopiesFolder,
        *,
        copies: Mapping[str, Copy] | None = None,
        file_order: Mapping[str, exp.Select] | None = None,
        results: ResultStore | None = None,
    ) -> None:
        """`file_order`: the view each copy was made of (its rows in the files' order)."""
        self._funnel = funnel
        self._files = MappingProxyType(dict(files))
        self._session = session
        self._views = views
        self._folder = folder
        self._copies = MappingProxyType(dict(copies or {}))
        self._file_order = dict(file_order or {})
        self._results = results
        self._columns: dict[str, list[tuple[str, str]]] = {}  # DESCRIBE of each view
        self._remote: Remote | None = None  # --engine spark: where queries run instead

    @property
    def funnel(self) -> Funnel:
        return self._funnel

    @property
    def files(self) -> Mapping[str, SourceFiles]:
        """Each source's files (the funnel's and the extra views'), read-only."""
        return self._files

    def size(self, source: str) -> int | None:
        """The bytes of a source's files on disk; None when one cannot be read."""
        try:
            return sum(file.stat().st_size for file in self._files[source].files)
        except OSError:
            return None

    @property
    def copies(self) -> Mapping[str, Copy]:
        """Each funnel source's Parquet copy (with the cache), read-only."""
        return self._copies

    @property
    def session(self) -> Session:
        """The DuckDB session (tests and diagnostics: settings, raw statements)."""
        return self._session

    def schema(self) -> dict[str, dict[str, str]]:
        """Each funnel source's columns and their DuckDB types, as its view reads them."""
        return {name: dict(self.columns(name)) for name in self.funnel.spec.sources}

    def columns(self, source: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each column of a source's view (extra views too): one
        DESCRIBE per source, again only after its view was switched to the tolerant reading."""
        if source not in self._columns:
            view = table(source_view(source))
            self._columns[source] = self._session.describe(view, source=source)
        return list(self._columns[source])

    def rows(
        self, query: exp.Expr, *, source: str | None = None, exact: bool = True
    ) -> list[dict[str, Any]]:
        """Run a query; its (small, aggregated) rows as dicts. `exact`: DECIMAL values stay
        Decimal; else they arrive as floats, which is what the report shows anyway.
        `source`: the source an unreadable-data error is about, when the query reads one."""
        if self._remote is not None:
            return self._remote.rows(query, exact=exact)
        cursor = self._run(query, source)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        if not exact:
            rows = [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in rows]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def unreadable(self, source: str, column: str, type_name: str) -> exp.Expr:
        """The condition that a value of `column` cannot be read as `type_name`: a failed cast,
        or for AMOUNT the money-parsing rules (sql/amounts.py; never for a numeric column)."""
        raw = exp.column(column, quoted=True)
        if type_name == AMOUNT:
            sql_type = dict(self.columns(source)).get(column, "VARCHAR")
            return money.unparseable(raw, sql_type, self._funnel.spec.currency)
        typed = exp.TryCast(this=raw.copy(), to=exp.DataType.build(type_name))
        return exp.and_(typed.is_(exp.null()), exp.not_(raw.is_(exp.null())))

    def locate(self, source: str, column: str, bad: exp.Expr) -> tuple[int, str] | None:
        """(row number, text) of the first value of `column` where `bad` holds, in the order of
        the source's files (not of its re-sorted copy); None when there is none. Counted first
        (count_where): one parallel pass, where numbering the rows in file order is a slow one
        (it reads the files)."""
        if not self.count_where(source, bad):
            return None
        query = locate_query(self._in_file_order(source), column, bad.copy())
        found = self._session.fetch(query, source=source)
        return (int(found[0][0]), str(found[0][1])) if found else None

    def lines_of(self, source: str, rows: set[int]) -> dict[int, int]:
        """Row numbers (locate, file_rows) of a one-file CSV source → the physical lines of
        its file they start on (engine/lines.py); empty for any other source."""
        return self._views.lines_of(source, rows)

    def count_where(self, source: str, bad: exp.Expr) -> int:
        """How many rows of a source's view (its copy with --cache, the count then a stored
        result) `bad` holds for."""
        if bad == exp.false():
            return 0  # e.g. an amount column DuckDB read as numbers: nothing to parse
        query = exp.select(exp.alias_(exp.func("count_if", bad.copy()), "n"))
        return int(self.rows(query.from_(table(source_view(source))), source=source)[0]["n"] or 0)

    def count_unparseable(self, source: str, column: str) -> int:
        """How many values of `column` are non-empty text that is not an amount (sql/amounts.py).

        A column DuckDB typed as numbers is not scanned for its rare NaN/inf (a scan per column
        cost a 1M-row report 20%): they are left out of the sums (NULL), and `validate` names
        the first one."""
        if money.is_numeric_type(dict(self.columns(source)).get(column, "VARCHAR")):
            return 0
        return self.count_where(source, self.unreadable(source, column, AMOUNT))

    def define_table(self, source: str, columns: list[tuple[str, str]]) -> None:
        """A `table:` source's columns (name, DuckDB type or "" when unknown): what the query
        is compiled against; DuckDB gets an empty view of that shape (it reads no table)."""
        self._columns[source] = list(columns)
        create_view(self._session, source, tables.empty_view(columns), replace=True)

    @property
    def remote(self) -> bool:
        """Whether queries run on another engine (--engine spark), not on DuckDB."""
        return self._remote is not None

    def use_remote(self, remote: Remote) -> None:
        """Run every later query (rows()) on `remote` (engine/spark.py), over its own views."""
        self._remote = remote

    def read_tolerantly(self) -> None:
        """Read every CSV source tolerantly from now on (what another engine's views read)."""
        self._tolerate()

    def readings(self) -> dict[str, tuple[CsvSource, ReadMode]]:
        """Each CSV source's probing and read mode (another engine reads it: scripts.py)."""
        return self._views.readings()

    def reject_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """(rows rejected per source, values rejected per reason) over every source; a
        `table:` source sets no row aside (0)."""
        counted, reasons = self._views.reject_counts()
        rows = {
            name: counted.get(name, 0)
            for name, found in self._files.items()
            if name in counted or found.is_table
        }
        return rows, reasons

    def rejects(self) -> list[Reject]:
        """Every rejected value, file by file in line order."""
        return self._views.rejects()

    def date_formats(self, source: str) -> dict[str, tuple[str, ...]]:
        """A CSV source's time columns (view names) → the formats each is read with."""
        return self._views.date_formats(source)

    def set_aside(self) -> list[SetAside]:
        """Per source that set rows aside: how many of how many, and the first example."""
        return self._views.set_aside()

    def rejects_of(self, source: str, column: str, value: str) -> list[Reject]:
        """The rejected values of a source's rows whose `column` is `value`."""
        return self._views.rejects_of(source, column, value)

    def close(self) -> None:
        try:
            if self._remote is not None:
                self._remote.close()
        finally:
            try:
                self._session.close()
            finally:
                self._folder.close()

    def file_rows(self, source: str) -> exp.Expr:
        """A source's rows as its view reads them, with `__row`: the 1-based number of each
        row among its files' data rows, counted before rejected rows are set aside (a
        Parquet copy is re-sorted, so a CSV is read again here: `funnel trace`)."""
        numbered = self._views.numbered(source)
        if numbered is None:
            rows = table(source_view(source))
            numbered = exp.select(
                exp.Star(), exp.alias_(exp.Window(this=exp.RowNumber()), ROW, quoted=True)
            ).from_(rows)
        return exp.Subquery(this=numbered, alias=exp.TableAlias(this=exp.to_identifier("u")))

    def _in_file_order(self, source: str) -> exp.Expr:
        """What row numbers are counted over: the CSV view, not its (re-sorted) Parquet copy."""
        body = self._file_order.get(source)
        if body is None:
            return table(source_view(source))
        return exp.Subquery(this=body.copy(), alias=exp.TableAlias(this=exp.to_identifier("u")))

    def _run(self, query: exp.Expr, source: str | None = None) -> Cursor:
        """Execute (or, with the cache, read back a stored result); a value the fast (typed)
        CSV read rejects switches to the tolerant views."""
        sql = query.sql(dialect="duckdb")
        if self._results is not None:
            stored = self._stored(query, sql, self._results, source)
            if stored is not None:
                return stored
        return self._tolerant(sql, source)[0]

    def _tolerant(self, sql: str, source: str | None = None) -> tuple[Cursor, bool]:
        """Execute; a value the fast (typed) CSV read rejects switches to the tolerant views
        and runs it again. With whether that switch happened."""
        try:
            return self._session.run(sql, source=source), False
        except DataError:
            if not self._tolerate():
                raise
            return self._session.run(sql, source=source), True

    def _tolerate(self) -> bool:
        """Read every source still read fast as tolerant from now on; False if none was."""
        switched = self._views.tolerate()
        for name in switched:  # a time column DuckDB typed (DATE) is now parsed (TIMESTAMP)
            self._columns.pop(name, None)
        return bool(switched)

    def _stored(
        self, query: exp.Expr, sql: str, results: ResultStore, source: str | None = None
    ) -> Cursor | None:
        """The query's result through the result store: read back when stored, else computed
        into it. None when the result's types cannot be stored (then it is just run)."""
        key = results.key(sql, self._views.modes())
        found = results.find(key)
        if found is not None:
            if found.tolerant:  # the rejects and their counts come from the tolerant views
                self._tolerate()
            cursor = results.read(found)
            if cursor is not None:
                return cursor
        try:
            columns = self._session.describe(query)
        except DataError:
            return None
        if not results.storable(columns) or not os.access(results.folder, os.W_OK):
            return None  # run it; a read-only cache answers what it holds and stores nothing
        kept = results.keep(key, query, columns, lambda copy: self._tolerant(copy, source)[1])
        return results.read(kept)
