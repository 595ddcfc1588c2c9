"""open_engine: resolve a funnel's files, open the session, probe and register each source as a
view (views.py), read funnel sources through their Parquet copies with the cache (copies.py),
lock DuckDB down to the files it may read, and yield the Engine (engine.py) over them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from funnelcli import __version__
from funnelcli.engine import copies, store
from funnelcli.engine.copies import Copy
from funnelcli.engine.engine import Engine
from funnelcli.engine.files import SourceFiles, resolve_files
from funnelcli.engine.probe import Probe, ReadingMemo
from funnelcli.engine.results import ResultStore
from funnelcli.engine.session import Progress, Session
from funnelcli.engine.views import (
    CsvSource,
    ReadMode,
    SourceViews,
    create_view,
    parquet_view,
)
from funnelcli.errors import DataError, UsageError
from funnelcli.spec import Funnel, SourceSpec
from funnelcli.sql import tables


@contextmanager
def open_engine(
    funnel: Funnel,
    data_dir: Path | None = None,
    extra: Mapping[str, tuple[SourceSpec, SourceFiles]] | None = None,
    *,
    parquet_cache: Path | None = None,
    progress: Progress | None = None,
    spark_master: str | None = None,
    scripted: bool = False,
) -> Iterator[Engine]:
    """Resolve the funnel's files and yield a locked-down engine over them (and `extra`: more
    readable views, e.g. `roi:` spend), reporting each statement's progress to `progress`.

    `parquet_cache` (a cache folder) reads each funnel source from its Parquet copy there,
    stores query results there, keeps what probing found and the transcoded or converted
    copies of sources; without it those copies go to a temporary folder removed on close.

    A `table:` source is read by another engine only: on Spark (`spark_master`) its columns
    come from the catalog; `scripted` (a script for another engine is written, or validate)
    takes the columns the YAML names for it (sql/tables.py); else it is a usage error."""
    _refuse_tables_on_duckdb(funnel, spark_master is not None or scripted)
    engine = _set_up(funnel, resolve_files(funnel, data_dir), extra or {}, parquet_cache, progress)
    try:
        if spark_master is not None:  # --engine spark: the queries run there
            from funnelcli.engine.spark import attach

            attach(engine, spark_master)
        else:
            for name in tables.table_sources(funnel.spec):
                engine.define_table(name, tables.declared_columns(funnel.spec, name))
        yield engine
    finally:
        engine.close()


def _refuse_tables_on_duckdb(funnel: Funnel, elsewhere: bool) -> None:
    """A `table:` source on DuckDB: exit 2 naming its key (DuckDB reads only declared files)."""
    names = tables.table_sources(funnel.spec)
    if names and not elsewhere:
        key = f"sources.{names[0]}.table"
        raise UsageError(
            str(
                funnel.error(
                    key,
                    "a table source is read by another engine: --engine spark (report, "
                    "summary, cohorts, roi) or the script of funnel sql --dialect "
                    "spark|databricks|postgres; DuckDB reads only declared files (use path:)",
                )
            )
        )


def _set_up(
    funnel: Funnel,
    resolved: Mapping[str, SourceFiles],
    extra: Mapping[str, tuple[SourceSpec, SourceFiles]],
    cache_dir: Path | None,
    progress: Progress | None,
) -> Engine:
    """Open the session, register every source's view (finding or building the copies with
    the cache), open the result store, lock down."""
    sources = {**funnel.spec.sources, **{name: spec for name, (spec, _) in extra.items()}}
    files = {**resolved, **{name: found for name, (_, found) in extra.items()}}
    folder = store.CopiesFolder(cache_dir)
    session: Session | None = None
    try:
        session = Session.open({name: found.label for name, found in files.items()}, progress)
        probe = Probe(session, funnel, folder)
        registered: dict[str, _Registered] = {}
        views: list[str] = []
        for name, source in sources.items():
            if files[name].is_table:  # another engine reads it (Engine.define_table)
                continue
            registered[name] = _register(probe, funnel, name, source, files[name], cache_dir)
            views.append(create_view(session, name, registered[name].body))
        allowed = [path for r in registered.values() for path in r.allowed]
        results = None
        if cache_dir is not None:
            every = sorted({f for found in files.values() for f in found.files})
            context = {
                "funnelcli": __version__,
                "engine": session.version,
                "views": views,
                "files": [store.fingerprint(f) for f in every],
            }
            results = ResultStore(session, cache_dir, context)
            store.ensure_dir(store.ensure_cache(cache_dir) / store.RESULTS)
            allowed.append(str(results.scratch))
        session.lock_down(allowed)
    except BaseException:
        if session is not None:
            session.close()
        folder.close()
        raise
    csv = {name: r.csv for name, r in registered.items() if r.csv is not None}
    return Engine(
        funnel,
        files,
        session,
        SourceViews(session, csv, {name: registered[name].mode for name in csv}),
        folder,
        copies={name: r.copy for name, r in registered.items() if r.copy is not None},
        file_order={name: r.made_of for name, r in registered.items() if r.made_of is not None},
        results=results,
    )


@dataclass(frozen=True)
class _Registered:
    """One source as registered: its view's body, the files DuckDB may read for it, what
    probing found (a CSV) and the mode it is read in, its Parquet copy and what that was made
    of (with the cache)."""

    body: exp.Select
    allowed: tuple[str, ...]
    csv: CsvSource | None = None
    mode: ReadMode = ReadMode.fast
    copy: Copy | None = None
    made_of: exp.Select | None = None


def _register(
    probe: Probe,
    funnel: Funnel,
    name: str,
    source: SourceSpec,
    found: SourceFiles,
    cache_dir: Path | None,
) -> _Registered:
    """The source's view: over its files (probed once if CSV), or over its Parquet copy."""
    session = probe.session
    csv = None
    if found.is_parquet:
        body, allowed = parquet_view(found), tuple(str(f) for f in found.files)
    else:
        memo = None
        if cache_dir is not None:
            versions = f"{__version__}|{session.version}"
            memo = ReadingMemo.of(cache_dir, source, found.files, versions)
        csv = probe.csv(name, source, found, memo)
        body, allowed = csv.view(ReadMode.fast).select, csv.paths
    if cache_dir is None or name not in funnel.spec.sources:
        return _Registered(body, allowed, csv)
    mode = ReadMode.fast
    try:
        copy = copies.find_or_build(session, cache_dir, name, funnel.spec, found.files, body)
    except DataError:  # a value the fast read cannot type: copy the tolerant reading
        if csv is None or not csv.types_natively:
            raise
        mode, body = ReadMode.tolerant, csv.view(ReadMode.tolerant).select
        copy = copies.find_or_build(session, cache_dir, name, funnel.spec, found.files, body)
    if copy is None:  # a read-only cache without this copy: read the files
        return _Registered(body, allowed, csv)
    parquet = copies.read_parquet(copy.parquet)
    return _Registered(parquet, (*allowed, str(copy.parquet)), csv, mode, copy, body)
