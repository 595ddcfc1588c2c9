"""The only DuckDB user: registers the declared sources as views, locks DuckDB down, runs SQL."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from funnelcli.engine import copies as cache
from funnelcli.engine import headers, store
from funnelcli.engine.headers import explain_one_column, looks_like_one_column
from funnelcli.engine.results import ResultStore
from funnelcli.engine.store import default_cache_dir
from funnelcli.engine.text import SheetNotFound, readable, transcode, xlsx_to_csv
from funnelcli.errors import DataError, FunnelError, QueryError
from funnelcli.spec import Funnel, Shape, SourceSpec
from funnelcli.sql import amounts as money
from funnelcli.sql import dates, readers
from funnelcli.sql.ast import copy_to_parquet, lockdown, source_view, table
from funnelcli.sql.readers import CsvSource, TimeColumn, csv_reader, declared_by_raw

if TYPE_CHECKING:
    import duckdb

AMOUNT = "AMOUNT"  # pseudo-type of money columns in first_unreadable
# DuckDB's default is 80% of RAM. Half of it leaves room for the rest of the machine; a lower
# FUNNELCLI_MEMORY_LIMIT caps the peak (hash aggregates spill to disk, but the per-id lists of a
# strict long history cannot: 10M leads need more than 1GB). See benchmarks/RESULTS.md.
MIN_MEMORY_LIMIT = 1_000_000_000
POLL_SECONDS = 0.1
Progress = Callable[[float], None]  # called with the running statement's done fraction, 0..1
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.zst")
_XLSX = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class SourceFiles:
    """The files behind one declared source, resolved from its path or glob."""

    name: str
    pattern: str
    files: tuple[Path, ...]

    @property
    def label(self) -> str:
        return self.pattern if len(self.files) != 1 else str(self.files[0])


def resolve_files(funnel: Funnel, data_dir: Path | None = None) -> dict[str, SourceFiles]:
    """Each source's files: paths relative to the YAML's folder (or `data_dir`), globs sorted."""
    base = data_dir or funnel.base_dir
    return {
        name: resolve_source(
            funnel, name, source.path, f"sources.{name}.path", base, data_dir is not None
        )
        for name, source in funnel.spec.sources.items()
    }


def resolve_source(
    funnel: Funnel, name: str, path: str, key: str, base: Path, from_data_dir: bool = False
) -> SourceFiles:
    """The files behind one path or glob; errors name the YAML `key` that declared it."""
    pattern = os.path.expanduser(path)
    full = pattern if os.path.isabs(pattern) else str(base / pattern)
    if glob.has_magic(pattern):
        files = tuple(Path(p) for p in sorted(glob.glob(full)) if not os.path.isdir(p))
        if not files:
            raise funnel.error(key, f"no file matches '{path}' (looked in {base})")
    else:
        file = Path(full)
        if file.is_dir():
            raise funnel.error(key, f"'{path}' is a directory, not a file")
        if not file.exists():
            hint = "" if from_data_dir else "; pass --data DIR if the files are in another folder"
            raise funnel.error(key, f"file not found: {file}{hint}")
        files = (file,)
    for file in files:
        if not file.name.lower().endswith(_PARQUET + _CSV + _XLSX):
            raise funnel.error(
                key,
                f"unsupported file type '{file.name}' (use .csv, .tsv, .csv.gz, .parquet or .xlsx)",
            )
        if not os.access(file, os.R_OK):
            raise DataError("permission denied: cannot read the file", file=str(file))
        if file.stat().st_size == 0:
            raise DataError("the file is empty (no header row)", file=str(file))
    return SourceFiles(name=name, pattern=path, files=files)


def _parquet_reader(files: SourceFiles) -> exp.Expr:
    paths = exp.Array(expressions=[exp.Literal.string(str(f)) for f in files.files])
    return exp.func("read_parquet", paths, _option("union_by_name", exp.true()))


def _option(name: str, value: exp.Expr) -> exp.Expr:
    return exp.EQ(this=exp.column(name), expression=value)


@dataclass(frozen=True)
class Reject:
    """One value set aside: where it is (original file, line with the header as line 1), why."""

    source: str
    file: str
    line: int
    column: str
    value: str
    reason: str


class Engine:
    """A DuckDB connection that can read the funnel's declared sources and nothing else.

    Sources are read through readable copies where needed (transcoded text, converted .xlsx:
    `copies_dir`, default paths.default_cache_dir()). With `parquet_cache`, each funnel source
    is read from its Parquet copy there (built on first use, see cache.py); the CSV stays
    readable to locate unreadable values by row; and records() results are kept in
    its results/ folder and read back for the same query over the same files (results.py).
    """

    def __init__(
        self,
        funnel: Funnel,
        files: Mapping[str, SourceFiles],
        extra: Mapping[str, tuple[SourceSpec, SourceFiles]] | None = None,
        *,
        copies_dir: Path | None = None,
        parquet_cache: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        """`extra`: more readable views beyond the funnel's sources (e.g. `roi:` spend)."""
        import duckdb

        self.funnel = funnel
        self.files = dict(files)
        extra = extra or {}
        self.files.update({name: files for name, (_spec, files) in extra.items()})
        self._duckdb = duckdb
        self._cache_dir = copies_dir or default_cache_dir()
        self._parquet_cache = parquet_cache
        self._csv: dict[str, CsvSource] = {}
        self._uncached: dict[str, exp.Expr] = {}  # the CSV view bodies behind Parquet copies
        self.copies: dict[str, tuple[Path, bool]] = {}  # source → its Parquet copy, built now?
        self._progress = progress
        self._switched = False  # the fast CSV views were replaced by the tolerant ones
        self._store: ResultStore | None = None
        self.connection = duckdb.connect(":memory:")
        self.connection.execute("SET TimeZone = 'UTC'")
        # DuckDB tracks progress for query_progress() but never prints its own bar.
        self.connection.execute("SET enable_progress_bar_print = false")
        tracking = "true" if progress is not None else "false"
        self.connection.execute(f"SET enable_progress_bar = {tracking}")
        _tune(self.connection)
        sources = dict(funnel.spec.sources)
        sources.update({name: spec for name, (spec, _files) in extra.items()})
        allowed: list[str] = []
        views: list[str] = []
        for name, source in sources.items():
            found = self.files[name]
            if found.files[0].name.lower().endswith(_PARQUET):
                body: exp.Select = exp.select(exp.Star()).from_(_parquet_reader(found))
                allowed += [str(f) for f in found.files]
            else:
                body = self._csv_view(name, source, found)
                allowed += list(self._csv[name].paths)
            if parquet_cache is not None and name in funnel.spec.sources:
                parquet, body = self._cached(name, source, body, parquet_cache)
                self._uncached[name] = body
                allowed.append(str(parquet))
                body = exp.select(exp.Star()).from_(
                    exp.func("read_parquet", exp.Literal.string(str(parquet)))
                )
            view = exp.Create(this=table(source_view(name)), kind="VIEW", expression=body)
            views.append(view.sql(dialect="duckdb"))
            self._execute(views[-1], source_name=name)
        if parquet_cache is not None:
            self._store = self._result_store(parquet_cache, views)
            allowed.append(str(self._store.scratch))
        # Row numbers (rejects, first_unreadable) follow file order only with this on.
        self.connection.execute("SET preserve_insertion_order = true")
        for setting in lockdown(allowed):
            self.connection.execute(setting)

    def _csv_view(self, name: str, source: SourceSpec, found: SourceFiles) -> exp.Select:
        """Readable copies (transcoded / converted), tolerant headers, typed times, rejects."""
        paths: list[str] = []
        encodings: list[str] = []
        for file in found.files:
            if file.name.lower().endswith(_XLSX):
                try:
                    paths.append(str(xlsx_to_csv(file, source.sheet, self._cache_dir)))
                except SheetNotFound as exc:
                    raise self.funnel.error(
                        f"sources.{name}.sheet",
                        f"no sheet {exc.sheet!r} in {file.name} (sheets: {', '.join(exc.names)})",
                    ) from None
                encodings.append("utf-8")
            else:
                path, encoding = readable(file, source.encoding, self._cache_dir)
                paths.append(str(path))
                encodings.append(encoding)
        encoding = encodings[0]
        if len(set(encodings)) > 1:  # a glob mixing encodings: read every file as UTF-8
            paths = [
                str(transcode(f, "latin-1", self._cache_dir)) if e == "latin-1" else p
                for f, p, e in zip(found.files, paths, encodings, strict=True)
            ]
            encoding = "utf-8"
        first = found.files[0].name.lower()
        delimiter = source.delimiter or ("\t" if ".tsv" in first else None)
        memo = self._memo(source, found)
        known = (memo.load() if memo is not None else None) or {}
        try:
            dialect = readers.Dialect.from_json(known["dialect"]) if "dialect" in known else None
            raw_headers = [str(h) for h in known["headers"]]
            detected = {
                str(raw): [dates.format_from_json(f) for f in formats]
                for raw, formats in known["formats"].items()
            }
        except (KeyError, TypeError, ValueError, AttributeError):
            dialect, raw_headers = self._layout(name, paths, encoding, delimiter)
            known, detected = {}, {}
        if looks_like_one_column(raw_headers) and not found.files[0].name.endswith(".gz"):
            raise explain_one_column(found.files[0], Path(paths[0]), encoding, raw_headers[0])
        spec = self.funnel.spec
        in_funnel = name in spec.sources  # else an extra view (roi: spend, contracts)
        referenced = readers.referenced_names(spec, name) if in_funnel else []
        renames = headers.rename_map(raw_headers, referenced)
        raw_of = {view_name: raw for raw, view_name in renames.items()}
        if in_funnel:
            types = {
                raw_of[n]: "VARCHAR"
                for n in readers.text_names(spec, name) + readers.time_names(spec, name)
                if n in raw_of
            }
        else:  # small files read as text; roi_inputs parses dates and amounts itself
            types = dict.fromkeys(raw_headers, "VARCHAR")
        csv = CsvSource(
            originals=found.files,
            paths=tuple(paths),
            encoding=encoding,
            delimiter=delimiter,
            types=types,
            checks=[],
            headers=raw_headers,
            renames=renames,
            times=[],
            tz=source.tz,
            dialect=dialect,
        )
        self._csv[name] = csv
        wanted = [
            (n, raw_of[n])
            for n in (readers.time_names(spec, name) if in_funnel else [])
            if n in raw_of
        ]  # a missing column is reported, with its YAML key, at compile time
        undeclared = [
            raw for n, raw in wanted if not (source.formats.get(n) or declared_by_raw(source, raw))
        ]
        missing = [raw for raw in undeclared if raw not in detected]
        for raw, values in self._samples(name, csv, missing).items():
            detected[raw] = dates.detect(values, source.day_first)
        times = []
        for view_name, raw in wanted:
            declared = source.formats.get(view_name) or declared_by_raw(source, raw)
            formats = list(declared) if declared else detected[raw]
            times.append(TimeColumn(raw, view_name, tuple(formats), detected=not declared))
        csv.times = times
        if memo is not None and (missing or not known):
            layout = {"dialect": dialect.to_json()} if dialect is not None else {}
            written = {raw: [dates.format_to_json(f) for f in fs] for raw, fs in detected.items()}
            memo.save({**layout, "headers": raw_headers, "formats": written})
        return csv.view(fast=True)

    def _layout(
        self, name: str, paths: list[str], encoding: str, delimiter: str | None
    ) -> tuple[readers.Dialect | None, list[str]]:
        """(sniffed dialect of a single file, raw headers): DuckDB's sniffer, run once; every
        later read of the file declares it all. A glob's files are only probed for headers."""
        if len(paths) == 1:
            sniffed = self._fetch(
                readers.sniff_query(paths[0], encoding, delimiter).sql(dialect="duckdb"),
                source_name=name,
            )[0]
            dialect = readers.Dialect(
                delimiter=str(sniffed[0]),
                quote='"' if sniffed[1] == "(empty)" else str(sniffed[1]),
                escape='"' if sniffed[2] == "(empty)" else str(sniffed[2]),
                columns=tuple((str(c["name"]), str(c["type"])) for c in sniffed[3]),
            )
            return dialect, [c for c, _ in dialect.columns]
        probe = csv_reader(paths, encoding, delimiter, all_varchar=True)
        described = self._describe(exp.select(exp.Star()).from_(probe), name)
        return None, [column for column, _ in described]

    def _memo(self, source: SourceSpec, found: SourceFiles) -> cache.ReadingMemo | None:
        """With the Parquet cache: where what probing this source found is remembered."""
        if self._parquet_cache is None:
            return None
        from funnelcli import __version__

        context = f"{__version__}|{self._duckdb.__version__}"
        return cache.ReadingMemo(self._parquet_cache, source, found.files, context)

    def _samples(self, name: str, csv: CsvSource, raws: list[str]) -> dict[str, list[str]]:
        """Non-empty values of each column: one pass over the first rows that have any, then a
        query of its own for a column still without values (a newest-first export)."""
        values: dict[str, list[str]] = {raw: [] for raw in raws}
        if not raws:
            return values
        query = readers.rows_query(csv.reader(), raws, dates.SAMPLE_SIZE)
        for row in self._fetch(query.sql(dialect="duckdb"), source_name=name):
            for raw, value in zip(raws, row, strict=True):
                if value is not None and str(value).strip():
                    values[raw].append(str(value).strip())
        for raw in raws:
            if not values[raw]:
                sample = readers.sample_query(csv.reader(), raw, dates.SAMPLE_SIZE)
                rows = self._fetch(sample.sql(dialect="duckdb"), source_name=name)
                values[raw] = [str(r[0]) for r in rows]
        return values

    def _slow_views(self) -> bool:
        """Re-create every fast-read CSV view as text + parse + rejects; False if none was fast."""
        changed = False
        for name, csv in self._csv.items():
            if csv.fast:
                view = exp.Create(
                    this=table(source_view(name)),
                    kind="VIEW",
                    expression=csv.view(fast=False),
                    replace=True,
                )
                self.connection.execute(view.sql(dialect="duckdb"))
                changed = True
        self._switched = self._switched or changed
        return changed

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        self.connection.close()

    def _result_store(self, cache_dir: Path, views: list[str]) -> ResultStore:
        """Where this engine keeps query results (results.py), keyed by its views and files."""
        from funnelcli import __version__

        files = sorted({f for found in self.files.values() for f in found.files})
        context = {
            "funnelcli": __version__,
            "engine": self._duckdb.__version__,
            "views": views,
            "files": [store.fingerprint(f) for f in files],
        }
        results = ResultStore(cache_dir, context)
        store.ensure_dir(results.folder)
        return results

    def headers(self) -> dict[str, dict[str, str]]:
        """Each source's columns and their DuckDB types, as DuckDB reads them (sniffs the CSVs)."""
        return {name: dict(self.columns(name)) for name in self.funnel.spec.sources}

    def columns(self, source_name: str) -> list[tuple[str, str]]:
        return self._describe(table(source_view(source_name)), source_name)

    def _describe(self, this: exp.Expr, source_name: str | None = None) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each column of a view or query, without running it."""
        describe = exp.Describe(this=this.copy()).sql(dialect="duckdb")
        return [
            (str(row[0]), str(row[1])) for row in self._fetch(describe, source_name=source_name)
        ]

    def first_unreadable(
        self, source_name: str, column: str, type_name: str
    ) -> tuple[int, str] | None:
        """(row number, raw text) of the first value of `column` that does not cast to type.

        `type_name` "AMOUNT" checks the money-parsing rules (money.py) instead of a cast.
        """
        raw = exp.column(column, quoted=True)
        if type_name == AMOUNT:
            bad: exp.Expr = exp.column("bad")
            check = money.unparseable(raw.copy(), self._type_of(source_name, column))
        else:
            bad = exp.and_(
                exp.column("typed").is_(exp.null()), exp.not_(exp.column("raw").is_(exp.null()))
            )
            check = exp.TryCast(this=raw.copy(), to=exp.DataType.build(type_name))
        query = (
            exp.select(exp.column("row_no"), exp.column("raw"))
            .from_(
                exp.select(
                    exp.alias_(exp.Window(this=exp.RowNumber()), "row_no"),
                    exp.alias_(exp.cast(raw, "VARCHAR"), "raw"),
                    exp.alias_(check, "bad" if type_name == AMOUNT else "typed"),
                )
                .from_(self._located(source_name))
                .subquery("t")
            )
            .where(bad)
            .order_by("row_no")
            .limit(1)
        )
        rows = self._fetch(query.sql(dialect="duckdb"), source_name=source_name)
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def count_unparseable(self, source_name: str, column: str) -> int:
        """How many values of `column` are non-empty text that is not an amount (money.py)."""
        sql_type = self._type_of(source_name, column)
        if money.is_numeric_type(sql_type):
            return 0  # DuckDB read every value as a number: nothing to parse
        bad = money.unparseable(exp.column(column, quoted=True), sql_type)
        query = exp.select(exp.alias_(exp.func("count_if", bad), "n")).from_(
            table(source_view(source_name))
        )
        rows = self.records(query.sql(dialect="duckdb"), source_name=source_name)
        return int(rows[0]["n"] or 0)

    def _type_of(self, source_name: str, column: str) -> str:
        return dict(self.columns(source_name)).get(column, "VARCHAR")

    def reject_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """(rows rejected per source, values rejected per reason) over every source."""
        rows: dict[str, int] = {}
        reasons: dict[str, int] = {}
        for name, csv in self._csv.items():
            if not csv.checks:
                rows[name] = 0
                continue
            query = readers.count_query(csv.reader(), csv.checks)
            counts = self._fetch(query.sql(dialect="duckdb"), source_name=name)[0]
            rows[name] = int(counts[0])
            for check, count in zip(csv.checks, counts[1:], strict=True):
                if count:
                    reasons[check.reason] = reasons.get(check.reason, 0) + int(count)
        return rows, reasons

    def rejects(self, limit: int | None = None) -> list[Reject]:
        """Every rejected value, file by file in line order (at most `limit` per file)."""
        out: list[Reject] = []
        for name, csv in self._csv.items():
            if not csv.checks:
                continue
            for original, path in zip(csv.originals, csv.paths, strict=True):
                query = readers.detail_query(csv.reader([path]), csv.checks, limit)
                for line, column, value, reason in self._fetch(
                    query.sql(dialect="duckdb"), source_name=name
                ):
                    out.append(Reject(name, str(original), int(line), column, value, reason))
        return out

    def records(
        self, sql: str, *, exact: bool = True, source_name: str | None = None
    ) -> list[dict[str, Any]]:
        """Run a query; its (small, aggregated) rows as dicts. `exact`: DECIMAL values stay
        Decimal; else they arrive as floats, which is what the report shows anyway.
        `source_name`: the source an unreadable-data error is about, when the query reads one."""
        cursor = self._run(sql, source_name)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        if not exact:
            rows = [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in rows]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _run(self, sql: str, source_name: str | None = None) -> duckdb.DuckDBPyConnection:
        """Execute (or, with the cache, read back a stored result); a value the fast (typed)
        CSV read rejects switches to the tolerant views."""
        if self._store is not None:
            stored = self._stored(sql, self._store, source_name)
            if stored is not None:
                return stored
        return self._tolerant(sql, source_name)[0]

    def _tolerant(
        self, sql: str, source_name: str | None = None
    ) -> tuple[duckdb.DuckDBPyConnection, bool]:
        """Execute; a value the fast (typed) CSV read rejects switches to the tolerant views
        and runs it again. With whether that switch happened."""
        try:
            return self._execute(sql, source_name=source_name), False
        except DataError:
            if not self._slow_views():
                raise
            return self._execute(sql, source_name=source_name), True

    def _stored(
        self, sql: str, store: ResultStore, source_name: str | None = None
    ) -> duckdb.DuckDBPyConnection | None:
        """The query's result through the result store: read back when stored, else computed
        into it. None when the result's types cannot be stored (then it is just run)."""
        key = store.key(sql, self._switched)
        found = store.find(key)
        if found is not None:
            if found.slow:  # the rejects and their counts come from the tolerant views
                self._slow_views()
            cursor = store.read(found, self._duckdb)
            if cursor is not None:
                return cursor
        query: exp.Expr = exp.maybe_parse(sql, dialect="duckdb")
        try:
            columns = self._describe(query)
        except DataError:
            return None
        if not store.storable(columns):
            return None
        kept = store.keep(key, query, columns, lambda copy: self._tolerant(copy, source_name)[1])
        return store.read(kept, self._duckdb)

    def _fetch(self, sql: str, *, source_name: str | None = None) -> list[tuple[Any, ...]]:
        return self._execute(sql, source_name=source_name).fetchall()

    def _execute(self, sql: str, *, source_name: str | None = None) -> duckdb.DuckDBPyConnection:
        duckdb = self._duckdb
        try:
            with self._polling():
                return self.connection.execute(sql)
        except (
            duckdb.IOException,
            duckdb.InvalidInputException,
            duckdb.ConversionException,
            duckdb.PermissionException,
        ) as exc:
            raise self._data_error(exc, source_name) from None
        except duckdb.OutOfMemoryException:
            raise FunnelError(
                f"DuckDB ran out of memory (memory_limit {memory_limit()}); set "
                "FUNNELCLI_MEMORY_LIMIT higher (e.g. 8GB) or free memory"
            ) from None
        except duckdb.Error as exc:
            raise QueryError(f"DuckDB failed: {_first_line(str(exc))}", sql=sql) from None

    def _data_error(self, exc: Exception, source_name: str | None) -> FunnelError:
        text = str(exc)
        message = _first_line(text)
        file = None
        named = re.search(r'(?:file "|file = )([^"\s]+)', text)
        if named is not None:
            file = named.group(1)
            for csv in self._csv.values():  # a cached copy: name the user's file instead
                for original, path in zip(csv.originals, csv.paths, strict=True):
                    if path == file:
                        file = str(original)
        if file is None and source_name is not None:
            file = self.files[source_name].label
        message = re.sub(r"^[A-Za-z ]+Error: ", "", message)
        csv_line = re.match(r"CSV Error on Line: (\d+)", message)
        if csv_line is not None:
            reasons = [
                line.strip()
                for line in text.splitlines()[1:]
                if line.strip() and not line.startswith(("Original Line", "Possible Solution"))
            ]
            reason = reasons[0].rstrip(".") if reasons else "unreadable row"
            if "unicode" in reason.lower():
                reason += " (declare the file's encoding:, or use encoding: auto)"
            return DataError(reason, file=file, line=int(csv_line.group(1)))
        return DataError(message, file=file)

    @contextmanager
    def _polling(self) -> Iterator[None]:
        """While a statement runs, report DuckDB's progress (0..1) from a helper thread."""
        if self._progress is None:
            yield
            return
        report = self._progress
        done = threading.Event()

        def poll() -> None:
            while not done.wait(POLL_SECONDS):
                try:
                    percent = self.connection.query_progress()
                except self._duckdb.Error:
                    return
                if percent >= 0:
                    report(min(percent, 100.0) / 100.0)

        poller = threading.Thread(target=poll, name="funnel-progress", daemon=True)
        poller.start()
        try:
            yield
        finally:
            done.set()
            poller.join()

    def _cached(
        self, name: str, source: SourceSpec, body: exp.Select, cache_dir: Path
    ) -> tuple[Path, exp.Select]:
        """The source's Parquet copy (of its typed view) in the cache: reused when intact, else
        (re)built; with the view body it was built from (the text path if the fast one failed)."""
        files = self.files[name].files
        wanted = self._sort_column(name, source)
        csv = self._csv.get(name)
        for attempt in (body, None):
            if attempt is None:  # the fast typed read failed: parse as text, reject per row
                if csv is None or not csv.fast:
                    raise AssertionError("unreachable")
                attempt = csv.view(fast=False)
            reading = attempt.sql(dialect="duckdb")
            key = cache.cache_key(source, files, self._duckdb.__version__, wanted, reading)
            entry = cache.read_entry(cache_dir, key)
            if entry is not None and self._parquet_rows(entry.parquet) == entry.rows:
                self.copies[name] = (entry.parquet, False)
                return entry.parquet, attempt
            try:
                built = self._build_parquet(name, attempt, wanted, cache_dir, key)
                self.copies[name] = (built, True)
                return built, attempt
            except DataError:
                if attempt is not body or csv is None or not csv.fast:
                    raise
        raise AssertionError("unreachable")

    def _build_parquet(
        self, name: str, body: exp.Select, sort: str | None, cache_dir: Path, key: str
    ) -> Path:
        """Write the copy sorted by `sort` (NULLs last). Most exports are already in entry
        order: when their first rows are, the copy is written in file order (no sort: at 10M
        rows 1.4 s and 2.7 GiB less) and checked; one that is not after all is sorted then."""
        store.ensure_dir(cache_dir)
        target = cache.parquet_path(cache_dir, key)
        select = exp.select(exp.Star()).from_(body.subquery("v"))
        column = sort if sort is not None and sort in dict(self._describe(body, name)) else None
        with store.replacing(target) as temp:
            if column is not None and self._in_order(body.limit(_HEAD_ROWS), column, name):
                rows = self._copy(select, temp, name, in_file_order=True)
                if not self._in_order(_read_parquet(temp), column, name):
                    with store.scratch(temp) as unsorted:
                        os.replace(temp, unsorted)
                        rows = self._copy(_sorted(_read_parquet(unsorted), column), temp, name)
            else:
                rows = self._copy(_sorted(select, column), temp, name)
        cache.record_entry(cache_dir, key, name, self.files[name].files, rows)
        return target

    def _copy(self, select: exp.Select, path: Path, name: str, in_file_order: bool = False) -> int:
        """COPY the query to a Parquet file; rows written. `in_file_order`: the row groups
        follow the files' order."""
        copy = copy_to_parquet(select, str(path)).sql(dialect="duckdb")
        with self._file_order() if in_file_order else contextlib.nullcontext():
            result = self._execute(copy, source_name=name).fetchone()
        return int(result[0]) if result else 0

    def _in_order(self, rows: exp.Expr, column: str, name: str) -> bool:
        """Whether `column` never decreases down `rows` in file order (NULLs last)."""
        with self._file_order():
            found = self._fetch(_out_of_order(rows, column).sql(dialect="duckdb"), source_name=name)
        return int(found[0][0] or 0) == 0

    @contextmanager
    def _file_order(self) -> Iterator[None]:
        """Meanwhile, scans and writes keep the files' row order (DuckDB may reorder rows for
        speed otherwise, as _tune lets it while the copies are built)."""
        self.connection.execute("SET preserve_insertion_order = true")
        try:
            yield
        finally:
            self.connection.execute("SET preserve_insertion_order = false")

    def _sort_column(self, name: str, source: SourceSpec) -> str | None:
        """The raw header of the source's entry time: its `at:` if long, else the first stage's
        time column from it (the copy keeps file order when the file lacks it)."""
        spec = self.funnel.spec
        wanted = source.at if source.shape is not Shape.wide else None
        if wanted is None:
            wanted = next(
                (s.at for s in spec.stages if spec.stage_source(s) == name and s.at), None
            )
        return None if wanted is None else source.column(wanted)

    def _parquet_rows(self, parquet: Path) -> int | None:
        """The row count in a cached file's footer, or None when it is missing or damaged."""
        count = exp.select(exp.Count(this=exp.Star())).from_(
            exp.func("read_parquet", exp.Literal.string(str(parquet)))
        )
        try:
            row = self.connection.execute(count.sql(dialect="duckdb")).fetchone()
        except self._duckdb.Error:
            return None
        return int(row[0]) if row else None

    def _located(self, source_name: str) -> exp.Expr:
        """What row numbers are counted over: the CSV view, not its (re-sorted) Parquet copy."""
        body = self._uncached.get(source_name)
        if body is None:
            return table(source_view(source_name))
        return exp.Subquery(this=body.copy(), alias=exp.TableAlias(this=exp.to_identifier("u")))


def memory_limit() -> str:
    """FUNNELCLI_MEMORY_LIMIT (DuckDB syntax, e.g. 2GB), else half the machine's memory."""
    explicit = os.environ.get("FUNNELCLI_MEMORY_LIMIT")
    if explicit:
        return explicit
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        physical = 0
    return f"{max(MIN_MEMORY_LIMIT, physical // 2) // 1_000_000}MB"


_HEAD_ROWS = 10_000  # first rows checked for entry order before a copy skips the sort


def _read_parquet(path: Path) -> exp.Select:
    return exp.select(exp.Star()).from_(exp.func("read_parquet", exp.Literal.string(str(path))))


def _sorted(select: exp.Select, column: str | None) -> exp.Select:
    if column is None:
        return select
    return select.order_by(exp.Ordered(this=exp.column(column, quoted=True), nulls_first=False))


def _out_of_order(rows: exp.Expr, column: str) -> exp.Select:
    """How many rows of `rows` (in scan order) come before the previous one when sorted by
    `column` NULLs last: a smaller value after a larger, or a value after a NULL."""
    value = exp.column(column, quoted=True)
    missing = value.copy().is_(exp.null())
    before = exp.Window(this=exp.func("lag", value.copy()))
    before_missing = exp.Window(
        this=exp.func("lag", missing.copy(), exp.Literal.number(1), exp.false())
    )
    pairs = exp.select(
        exp.alias_(value.copy(), "t"),
        exp.alias_(missing, "t_missing"),
        exp.alias_(before, "p"),
        exp.alias_(before_missing, "p_missing"),
    ).from_(exp.Subquery(this=rows.copy(), alias=exp.TableAlias(this=exp.to_identifier("r"))))
    back = exp.or_(
        exp.and_(exp.column("p_missing"), exp.not_(exp.column("t_missing"))),
        exp.LT(this=exp.column("t"), expression=exp.column("p")),
    )
    return exp.select(exp.func("count_if", back)).from_(pairs.subquery("pairs"))


def _tune(connection: duckdb.DuckDBPyConnection) -> None:
    """Settings for one aggregate query over large files: no row order to keep (it is all
    aggregated), a memory ceiling (FUNNELCLI_MEMORY_LIMIT, DuckDB syntax, e.g. 2GB) with
    spilling to a temp folder instead of failing, and FUNNELCLI_THREADS."""
    connection.execute("SET preserve_insertion_order = false")
    # DuckDB creates the spill folder (not its parents) only if it has to spill.
    owner = os.getuid() if hasattr(os, "getuid") else "user"
    spill = Path(tempfile.gettempdir()) / f"funnelcli-spill-{owner}"
    settings = {
        "memory_limit": memory_limit(),
        "temp_directory": str(spill),
    }
    threads = os.environ.get("FUNNELCLI_THREADS")
    if threads:
        settings["threads"] = threads
    for name, value in settings.items():
        statement = exp.Set(
            expressions=[
                exp.SetItem(
                    this=exp.EQ(this=exp.column(name), expression=exp.Literal.string(value))
                )
            ]
        )
        try:
            connection.execute(statement.sql(dialect="duckdb"))
        except Exception as exc:  # duckdb is only imported lazily; any bad value is user input
            message = f"cannot set DuckDB {name} to {value!r}: {_first_line(str(exc))}"
            raise DataError(message) from None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


@contextmanager
def open_engine(
    funnel: Funnel,
    data_dir: Path | None = None,
    extra: Mapping[str, tuple[SourceSpec, SourceFiles]] | None = None,
    *,
    parquet_cache: Path | None = None,
    progress: Progress | None = None,
) -> Iterator[Engine]:
    """Resolve the funnel's files and yield a locked-down engine over them (and `extra`),
    reading the Parquet cache in `parquet_cache` when given and reporting each statement's
    progress to `progress`."""
    engine = Engine(
        funnel,
        resolve_files(funnel, data_dir),
        extra,
        parquet_cache=parquet_cache,
        progress=progress,
    )
    try:
        yield engine
    finally:
        engine.close()
