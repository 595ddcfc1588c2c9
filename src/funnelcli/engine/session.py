"""One DuckDB connection, tuned and locked down: the only module that imports duckdb.

It runs statements, polls DuckDB's progress for a display while one runs, and translates
DuckDB's exceptions once into FunnelErrors (a data error names the user's file, not the
readable copy DuckDB was reading). duckdb is imported inside functions, so that `funnel --help`
never pays for it.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from funnelcli.engine.files import is_xlsx
from funnelcli.engine.lines import Layout
from funnelcli.errors import DataError, FunnelError, QueryError
from funnelcli.sql.ast import lockdown

if TYPE_CHECKING:
    import duckdb

    Cursor = duckdb.DuckDBPyConnection

# DuckDB's default is 80% of RAM. Half of it leaves room for the rest of the machine; a lower
# FUNNELCLI_MEMORY_LIMIT caps the peak (hash aggregates spill to disk, but the per-id lists of a
# strict long history cannot: 10M leads need more than 1GB). See benchmarks/RESULTS.md.
MIN_MEMORY_LIMIT = 1_000_000_000
POLL_SECONDS = 0.1
Progress = Callable[[float], None]  # called with the running statement's done fraction, 0..1


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*((?:[KMGT]I?)?B)\s*", re.IGNORECASE)


def memory_limit() -> str:
    """FUNNELCLI_MEMORY_LIMIT (a positive size: 2GB, 512MiB), else half the machine's memory.
    Anything else (`-5GB`, which DuckDB reads as no limit, `lots`) is an error."""
    explicit = os.environ.get("FUNNELCLI_MEMORY_LIMIT")
    if explicit:
        size = _SIZE.fullmatch(explicit)
        if size is None or float(size.group(1)) <= 0:
            raise FunnelError(
                f"FUNNELCLI_MEMORY_LIMIT={explicit!r}: expected a positive size such as 2GB "
                "or 512MB"
            )
        return f"{size.group(1)}{size.group(2).upper()}"
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        physical = 0
    return f"{max(MIN_MEMORY_LIMIT, physical // 2) // 1_000_000}MB"


def _tuning() -> dict[str, str]:
    """Settings for one aggregate query over large files: a memory ceiling
    (FUNNELCLI_MEMORY_LIMIT) with spilling to a temp folder instead of failing, and
    FUNNELCLI_THREADS."""
    # DuckDB creates the spill folder (not its parents) only if it has to spill.
    owner = os.getuid() if hasattr(os, "getuid") else "user"
    settings = {
        "memory_limit": memory_limit(),
        "temp_directory": str(Path(tempfile.gettempdir()) / f"funnelcli-spill-{owner}"),
    }
    threads = os.environ.get("FUNNELCLI_THREADS")
    if threads:
        settings["threads"] = str(thread_count(threads))
    return settings


def thread_count(text: str) -> int:
    """FUNNELCLI_THREADS as a count from 1 to 4 × the machine's cores (more only thrashes:
    100,000 threads hung the process)."""
    ceiling = 4 * (os.cpu_count() or 1)
    try:
        wanted = int(text.strip())
    except ValueError:
        wanted = 0
    if wanted < 1:
        raise FunnelError(f"FUNNELCLI_THREADS={text!r}: expected a whole number of threads ≥ 1")
    return min(wanted, ceiling)


class Session:
    """A DuckDB connection that, once locked down, may read only the files it was allowed."""

    def __init__(
        self,
        connection: Cursor,
        duckdb_module: Any,
        labels: Mapping[str, str],
        progress: Progress | None = None,
    ) -> None:
        """`labels`: how errors name each source's files (SourceFiles.label)."""
        self._connection = connection
        self._duckdb = duckdb_module
        self._labels = dict(labels)
        self._progress = progress
        self._originals: dict[str, str] = {}  # readable copy → the user's file it stands for
        self._reader: Cursor | None = None

    @classmethod
    def open(cls, labels: Mapping[str, str], progress: Progress | None = None) -> Session:
        """A new in-memory connection in UTC, tuned (see _tuning), reporting progress if asked.
        Row order is not kept until lock_down(): the Parquet copies are built meanwhile."""
        import duckdb

        session = cls(duckdb.connect(":memory:"), duckdb, labels, progress)
        try:
            session._configure()
        except BaseException:
            session.close()
            raise
        return session

    def _configure(self) -> None:
        self._connection.execute("SET TimeZone = 'UTC'")
        # DuckDB tracks progress for query_progress() but never prints its own bar.
        self._connection.execute("SET enable_progress_bar_print = false")
        tracking = "true" if self._progress is not None else "false"
        self._connection.execute(f"SET enable_progress_bar = {tracking}")
        self._connection.execute("SET preserve_insertion_order = false")  # all is aggregated
        for name, value in _tuning().items():
            try:
                self._connection.execute(_set(name, value).sql(dialect="duckdb"))
            except self._duckdb.Error as exc:  # any bad value is user input
                message = f"cannot set DuckDB {name} to {value!r}: {_first_line(str(exc))}"
                raise DataError(message) from None

    @property
    def version(self) -> str:
        return str(self._duckdb.__version__)

    def read_as(self, copy: str, original: Path) -> None:
        """Errors about the readable `copy` (transcoded, converted) name `original` instead."""
        self._originals[copy] = str(original)

    def lock_down(self, allowed: Sequence[str]) -> None:
        """From now on DuckDB may read only `allowed` and change no setting; rows keep the files'
        order (row numbers of rejects and unreadable values follow it)."""
        self._connection.execute("SET preserve_insertion_order = true")
        for setting in lockdown(list(allowed)):
            self._connection.execute(setting)

    @contextmanager
    def in_file_order(self) -> Iterator[None]:
        """Meanwhile (before lock_down), scans and writes keep the files' row order."""
        self._connection.execute("SET preserve_insertion_order = true")
        try:
            yield
        finally:
            self._connection.execute("SET preserve_insertion_order = false")

    def run(self, sql: str, *, source: str | None = None) -> Cursor:
        """Execute one statement; `source`: the source a data error is about, when known."""
        duckdb = self._duckdb
        try:
            with self._polling():
                return self._connection.execute(sql)
        except (
            duckdb.IOException,
            duckdb.InvalidInputException,
            duckdb.ConversionException,
            duckdb.PermissionException,
        ) as exc:
            raise self._data_error(exc, source) from None
        except duckdb.OutOfMemoryException:
            raise FunnelError(
                f"DuckDB ran out of memory (memory_limit {memory_limit()}); set "
                "FUNNELCLI_MEMORY_LIMIT higher (e.g. 8GB) or free memory"
            ) from None
        except duckdb.Error as exc:
            raise QueryError(f"DuckDB failed: {_first_line(str(exc))}", sql=sql) from None

    def fetch(self, query: exp.Expr, *, source: str | None = None) -> list[tuple[Any, ...]]:
        return self.run(query.sql(dialect="duckdb"), source=source).fetchall()

    def describe(self, query: exp.Expr, *, source: str | None = None) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each column of a view or query, without running it."""
        rows = self.fetch(exp.Describe(this=query.copy()), source=source)
        return [(str(row[0]), str(row[1])) for row in rows]

    def parquet_rows(self, path: Path) -> int | None:
        """The row count in a Parquet file's footer, or None when it is missing or damaged."""
        count = exp.select(exp.Count(this=exp.Star())).from_(
            exp.func("read_parquet", exp.Literal.string(str(path)))
        )
        try:
            row = self._connection.execute(count.sql(dialect="duckdb")).fetchone()
        except self._duckdb.Error:
            return None
        return int(row[0]) if row else None

    def read_back(self, path: Path, query: exp.Expr) -> Cursor | None:
        """Run `query` on a second connection, in UTC, locked down to read only `path` (a stored
        result); None when DuckDB cannot (a damaged file). Replaces the previous one's cursor."""
        self._close_reader()
        self._reader = reader = self._duckdb.connect(":memory:")
        try:
            reader.execute("SET TimeZone = 'UTC'")
            for setting in lockdown([str(path)]):
                reader.execute(setting)
            cursor: Cursor = reader.execute(query.sql(dialect="duckdb"))
        except self._duckdb.Error:
            return None
        return cursor

    def setting(self, name: str) -> Any:
        """The current value of one DuckDB setting."""
        query = exp.select(exp.func("current_setting", exp.Literal.string(name)))
        row = self._connection.execute(query.sql(dialect="duckdb")).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self._close_reader()
        self._connection.close()

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _data_error(self, exc: Exception, source: str | None) -> FunnelError:
        text = str(exc)
        message = _first_line(text)
        file = None
        named = re.search(r'(?:file "|file = )([^"\s]+)', text)
        if named is not None:
            file = self._originals.get(named.group(1), named.group(1))
        if file is None and source is not None:
            file = self._labels[source]
        message = re.sub(r"^[A-Za-z ]+Error: ", "", message)
        csv_line = re.match(r"CSV Error on Line: (\d+)", message)
        if csv_line is not None:
            reason = _csv_reason(text.splitlines()[1:])
            if "unicode" in reason.lower():
                reason += " (declare the file's encoding:, or use encoding: auto)"
            line = int(csv_line.group(1))
            if named is not None and not is_xlsx(Path(str(file))):
                layout = _layout(named.group(1), text)
                longer = re.search(r"Maximum line size of (\d+) bytes", reason)
                if longer is not None:  # the sniffer names line 1 whatever line it was
                    line = layout.first_longer(int(longer.group(1))) or line
                else:
                    line = layout.records({line}).get(line, line)
            return DataError(reason, file=file, line=line)
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
                    percent = self._connection.query_progress()
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


def _set(name: str, value: str) -> exp.Set:
    return exp.Set(
        expressions=[
            exp.SetItem(this=exp.EQ(this=exp.column(name), expression=exp.Literal.string(value)))
        ]
    )


def _csv_reason(lines: list[str]) -> str:
    """The reason in a DuckDB CSV error: the last line before its suggestions (the offending
    line it quotes first may itself span lines)."""
    body = []
    for line in lines:
        if line.startswith(("Possible", "  file = ")):
            break
        body.append(line)
    reasons = [b.strip() for b in body if b.strip() and not b.startswith("Original Line")]
    return reasons[-1].rstrip(".") if reasons else "unreadable row"


def _layout(path: str, text: str) -> Layout:
    """The quoting a DuckDB CSV error states it read `path` with (engine/lines.py)."""
    found = {}
    for option in ("delimiter", "quote", "escape"):
        match = re.search(rf"^  {option} = (.*?)(?: \([A-Za-z -]+\))?$", text, re.MULTILINE)
        value = match.group(1) if match else ""
        found[option] = {"(empty)": "", "\\t": "\t"}.get(value, value)
    return Layout(
        path,
        delimiter=found["delimiter"] or ",",
        quote=found["quote"],
        escape=found["escape"],
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
