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

from funnelcli import cache
from funnelcli.errors import DataError, FunnelError, QueryError
from funnelcli.spec import Funnel, Shape, SourceSpec
from funnelcli.sqlast import source_view, table

if TYPE_CHECKING:
    import duckdb
    import polars as pl

# DuckDB's default is 80% of RAM; a ceiling keeps a 10M-row report under ~512 MiB peak RSS
# (the aggregate spills to disk instead). Measured in benchmarks/RESULTS.md.
MEMORY_LIMIT = "1GB"
POLL_SECONDS = 0.1
Progress = Callable[[float], None]  # called with the running statement's done fraction, 0..1
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.zst")


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
    resolved = {}
    for name, source in funnel.spec.sources.items():
        key = f"sources.{name}.path"
        pattern = os.path.expanduser(source.path)
        full = pattern if os.path.isabs(pattern) else str(base / pattern)
        if glob.has_magic(pattern):
            files = tuple(Path(p) for p in sorted(glob.glob(full)) if not os.path.isdir(p))
            if not files:
                raise funnel.error(key, f"no file matches '{source.path}' (looked in {base})")
        else:
            path = Path(full)
            if path.is_dir():
                raise funnel.error(key, f"'{source.path}' is a directory, not a file")
            if not path.exists():
                raise funnel.error(key, f"file not found: {path}")
            files = (path,)
        for file in files:
            if not file.name.lower().endswith(_PARQUET + _CSV):
                raise funnel.error(
                    key,
                    f"unsupported file type '{file.name}' (use .csv, .tsv, .csv.gz or .parquet)",
                )
            if not os.access(file, os.R_OK):
                raise DataError("permission denied: cannot read the file", file=str(file))
            if file.stat().st_size == 0:
                raise DataError("the file is empty (no header row)", file=str(file))
        resolved[name] = SourceFiles(name=name, pattern=source.path, files=files)
    return resolved


def _reader(source: SourceSpec, files: SourceFiles) -> exp.Expr:
    paths = exp.Array(expressions=[exp.Literal.string(str(f)) for f in files.files])
    first = files.files[0].name.lower()
    if first.endswith(_PARQUET):
        return exp.func("read_parquet", paths, _option("union_by_name", exp.true()))
    options = [
        _option("header", exp.true()),
        _option("union_by_name", exp.true()),
        _option("encoding", exp.Literal.string(source.encoding)),
    ]
    delimiter = source.delimiter or ("\t" if ".tsv" in first else None)
    if delimiter is not None:
        options.append(_option("delim", exp.Literal.string(delimiter)))
    return exp.func("read_csv", paths, *options)


def _option(name: str, value: exp.Expr) -> exp.Expr:
    return exp.EQ(this=exp.column(name), expression=value)


class Engine:
    """A DuckDB connection that can read the funnel's declared sources and nothing else.

    With `cache_dir`, each source is read from its Parquet copy there (built on first use, see
    cache.py); the original files stay readable only to locate unreadable values by row.
    """

    def __init__(
        self,
        funnel: Funnel,
        files: Mapping[str, SourceFiles],
        cache_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        import duckdb

        self.funnel = funnel
        self.files = dict(files)
        self._duckdb = duckdb
        self._progress = progress
        self.connection = duckdb.connect(":memory:")
        self.connection.execute("SET TimeZone = 'UTC'")
        # DuckDB tracks progress for query_progress() but never prints its own bar.
        self.connection.execute("SET enable_progress_bar_print = false")
        tracking = "true" if progress is not None else "false"
        self.connection.execute(f"SET enable_progress_bar = {tracking}")
        _tune(self.connection)
        self._originals: dict[str, exp.Expr] = {}
        readable = [str(f) for s in self.files.values() for f in s.files]
        for name, source in funnel.spec.sources.items():
            reader = _reader(source, self.files[name])
            self._originals[name] = reader
            if cache_dir is not None:
                parquet = self._cached(name, source, reader, cache_dir)
                readable.append(str(parquet))
                reader = exp.func("read_parquet", exp.Literal.string(str(parquet)))
            view = exp.Create(
                this=table(source_view(name)),
                kind="VIEW",
                expression=exp.select(exp.Star()).from_(reader),
            )
            self.connection.execute(view.sql(dialect="duckdb"))
        allowed = exp.Array(expressions=[exp.Literal.string(p) for p in readable])
        self.connection.execute(f"SET allowed_paths = {allowed.sql(dialect='duckdb')}")
        self.connection.execute("SET enable_external_access = false")
        self.connection.execute("SET lock_configuration = true")

    def close(self) -> None:
        self.connection.close()

    def headers(self) -> dict[str, dict[str, str]]:
        """Each source's columns and their DuckDB types, as DuckDB reads them (sniffs the CSVs)."""
        return {name: dict(self.columns(name)) for name in self.funnel.spec.sources}

    def columns(self, source_name: str) -> list[tuple[str, str]]:
        describe = exp.Describe(this=table(source_view(source_name)))
        rows = self._fetch(describe.sql(dialect="duckdb"), source_name=source_name)
        return [(str(row[0]), str(row[1])) for row in rows]

    def first_unreadable(
        self, source_name: str, column: str, type_name: str
    ) -> tuple[int, str] | None:
        """(row number, raw text) of the first value of `column` that does not cast to type."""
        raw = exp.column(column, quoted=True)
        query = (
            exp.select(exp.column("row_no"), exp.column("raw"))
            .from_(
                exp.select(
                    exp.alias_(exp.Window(this=exp.RowNumber()), "row_no"),
                    exp.alias_(exp.cast(raw, "VARCHAR"), "raw"),
                    exp.alias_(
                        exp.TryCast(this=raw.copy(), to=exp.DataType.build(type_name)), "typed"
                    ),
                )
                .from_(self._originals[source_name].copy())
                .subquery("t")
            )
            .where(
                exp.and_(
                    exp.column("typed").is_(exp.null()), exp.not_(exp.column("raw").is_(exp.null()))
                )
            )
            .order_by("row_no")
            .limit(1)
        )
        rows = self._fetch(query.sql(dialect="duckdb"), source_name=source_name)
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def frame(self, sql: str) -> pl.DataFrame:
        """Run a query; the (small, aggregated) result as a polars frame."""
        import polars as pl

        cursor = self._execute(sql)
        names = [d[0] for d in cursor.description]
        # Exact DECIMAL sums arrive as Decimal; as floats (what the report shows anyway) polars
        # builds the frame without importing numpy (~0.15 s of every run).
        rows = [
            tuple(float(v) if isinstance(v, Decimal) else v for v in row)
            for row in cursor.fetchall()
        ]
        return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)

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
        except duckdb.Error as exc:
            raise QueryError(f"DuckDB failed: {_first_line(str(exc))}", sql=sql) from None

    def _data_error(self, exc: Exception, source_name: str | None) -> FunnelError:
        message = _first_line(str(exc))
        file = None
        if source_name is not None:
            file = self.files[source_name].label
        else:
            mentioned = re.search(r'file "?([^"\s]+)"?', message)
            file = mentioned.group(1) if mentioned else None
        message = re.sub(r"^[A-Za-z ]+Error: ", "", message)
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

    def _cached(self, name: str, source: SourceSpec, reader: exp.Expr, cache_dir: Path) -> Path:
        """The source's Parquet copy in the cache: reused when intact, else (re)built."""
        files = self.files[name].files
        wanted = self._sort_column(name, source)
        key = cache.cache_key(source, files, self._duckdb.__version__, wanted)
        entry = cache.read_entry(cache_dir, key)
        if entry is not None and self._parquet_rows(entry.parquet) == entry.rows:
            return entry.parquet
        cache.ensure_dir(cache_dir)
        target = cache.parquet_path(cache_dir, key)
        temp = cache.temp_path(cache_dir, key)
        select = exp.select(exp.Star()).from_(reader.copy())
        sort = wanted if wanted is not None and self._has_column(name, reader, wanted) else None
        if sort is not None:
            select = select.order_by(exp.Ordered(this=exp.column(sort, quoted=True)))
        copy = exp.Copy(
            this=select.subquery(),
            kind=False,
            files=[exp.Literal.string(str(temp))],
            params=[
                exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var("PARQUET")),
                exp.CopyParameter(this=exp.var("COMPRESSION"), expression=exp.var("ZSTD")),
            ],
        )
        try:
            result = self._execute(copy.sql(dialect="duckdb"), source_name=name).fetchone()
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        rows = int(result[0]) if result else 0
        cache.record_entry(cache_dir, key, name, files, rows)
        return target

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

    def _has_column(self, name: str, reader: exp.Expr, column: str) -> bool:
        describe = exp.Describe(this=exp.select(exp.Star()).from_(reader.copy()))
        rows = self._fetch(describe.sql(dialect="duckdb"), source_name=name)
        return column in {str(row[0]) for row in rows}

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


def _tune(connection: duckdb.DuckDBPyConnection) -> None:
    """Settings for one aggregate query over large files: no row order to keep (it is all
    aggregated), a memory ceiling (FUNNELCLI_MEMORY_LIMIT, DuckDB syntax, e.g. 2GB) with
    spilling to a temp folder instead of failing, and FUNNELCLI_THREADS."""
    connection.execute("SET preserve_insertion_order = false")
    # DuckDB creates the spill folder (not its parents) only if it has to spill.
    owner = os.getuid() if hasattr(os, "getuid") else "user"
    spill = Path(tempfile.gettempdir()) / f"funnelcli-spill-{owner}"
    settings = {
        "memory_limit": os.environ.get("FUNNELCLI_MEMORY_LIMIT", MEMORY_LIMIT),
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
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> Iterator[Engine]:
    """Resolve the funnel's files and yield a locked-down engine over them (reading the
    Parquet cache in `cache_dir` when given; reporting each statement's progress to
    `progress`)."""
    engine = Engine(funnel, resolve_files(funnel, data_dir), cache_dir, progress)
    try:
        yield engine
    finally:
        engine.close()
