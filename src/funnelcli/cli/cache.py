"""`funnel cache info|clear|build`: the Parquet cache that --cache reads."""

from __future__ import annotations

from typing import Annotated

import typer

from funnelcli.cli._base import (
    CacheDirOpt,
    DataOpt,
    DebugOpt,
    FunnelArg,
    ReportFormat,
    _funnel_path,
    _guard,
    app,
)
from funnelcli.errors import UsageError

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
        ReportFormat, typer.Option("--format", "-f", help="Output format: table or json.")
    ] = ReportFormat.table,
    debug: DebugOpt = False,
) -> None:
    """List the cached sources (files, rows, size on disk, when built) and the stored results.

    Example: funnel cache info --format json
    """

    def run() -> None:
        import json

        from funnelcli.engine import copies as cache
        from funnelcli.engine import results
        from funnelcli.engine.store import default_cache_dir
        from funnelcli.render.wording import format_size as _size

        folder = cache_dir or default_cache_dir()
        entries = cache.entries(folder)
        stored, stored_bytes = results.usage(folder)
        if fmt is ReportFormat.json:
            document = {
                "schema": "funnelcli.cache/1",
                "cache_dir": str(folder),
                "entries": [e.to_dict() for e in entries],
                "total_bytes": sum(e.bytes for e in entries),
                "results": {"entries": stored, "bytes": stored_bytes},
            }
            typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
            return
        if fmt is not ReportFormat.table:
            raise UsageError("cache info: --format must be table or json")
        total = sum(e.bytes for e in entries)
        typer.echo(f"{folder}: {len(entries)} cached source(s), {_size(total)}")
        for e in entries:
            typer.echo(
                f"  {e.source}: {', '.join(e.files)} → {e.parquet.name} "
                f"({e.rows:,} rows, {_size(e.bytes)}, built {e.created})"
            )
        typer.echo(f"  stored query results: {stored}, {_size(stored_bytes)}")

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
