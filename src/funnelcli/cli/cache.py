"""`funnel cache info|clear|build`: the Parquet cache that --cache reads."""

from __future__ import annotations

from typing import Annotated

import typer

from funnelcli.cli._base import (
    CacheDirOpt,
    CacheFormat,
    DataOpt,
    DebugOpt,
    FunnelArg,
    _funnel_path,
    _guard,
    app,
    emit,
)

cache_app = typer.Typer(
    help="Build, inspect or empty the Parquet cache that --cache reads sources from.\n\n"
    "Example: funnel cache info",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(
    cache_dir: CacheDirOpt = None,
    fmt: Annotated[
        CacheFormat, typer.Option("--format", "-f", help="Output format: table or json.")
    ] = CacheFormat.table,
    debug: DebugOpt = False,
) -> None:
    """List the cached sources (files, rows, size on disk, when built) and the stored results.

    Example: funnel cache info --format json
    """

    def run() -> None:
        from funnelcli.engine import copies as cache
        from funnelcli.engine import results
        from funnelcli.engine.store import default_cache_dir
        from funnelcli.outputs.cache import CachedSource, CacheInfo, StoredResults

        folder = cache_dir or default_cache_dir()
        entries = cache.entries(folder)
        stored, stored_bytes = results.usage(folder)
        info = CacheInfo(
            cache_dir=str(folder),
            entries=tuple(
                CachedSource(
                    key=e.key,
                    parquet=str(e.parquet),
                    source=e.source,
                    files=e.files,
                    rows=e.rows,
                    bytes=e.bytes,
                    created=e.created,
                )
                for e in entries
            ),
            total_bytes=sum(e.bytes for e in entries),
            results=StoredResults(entries=stored, bytes=stored_bytes),
        )
        emit(info, fmt, None)

    _guard(debug, run)


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None, debug: DebugOpt = False) -> None:
    """Delete every cached Parquet copy and stored result (rebuilt on the next --cache run).

    Example: funnel cache clear
    """

    def run() -> None:
        from funnelcli.engine import copies as cache
        from funnelcli.engine.store import default_cache_dir
        from funnelcli.render.wording import format_size

        folder = cache_dir or default_cache_dir()
        files, size = cache.clear(folder)
        typer.echo(f"Removed {files} file(s), {format_size(size)}, from {folder}")

    _guard(debug, run)


@cache_app.command("build")
def cache_build(
    funnel: FunnelArg = None,
    data: DataOpt = None,
    cache_dir: CacheDirOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Build (or check) the Parquet copies of a funnel's sources without running a report,
    e.g. from cron before the working day; copies still up to date are left as they are.

    Example: funnel cache build funnels/default.yaml
    """

    def run() -> None:
        from funnelcli.cli.funnel import _query_progress
        from funnelcli.engine import copies as cache
        from funnelcli.engine import open_engine
        from funnelcli.engine.store import default_cache_dir
        from funnelcli.render.wording import format_size
        from funnelcli.spec import load_funnel

        definition = load_funnel(_funnel_path(funnel))
        folder = cache_dir or default_cache_dir()
        with (
            _query_progress(definition, data) as progress,
            open_engine(definition, data, parquet_cache=folder, progress=progress) as engine,
        ):
            copies = dict(engine.copies)
        for name, (parquet, built) in copies.items():
            entry = cache.read_entry(folder, parquet.name.removesuffix(".parquet"))
            size = f"{entry.rows:,} rows, {format_size(entry.bytes)}" if entry else "unreadable"
            state = "built" if built else "up to date"
            typer.echo(f"{name}: {state} {parquet} ({size})")

    _guard(debug, run)
