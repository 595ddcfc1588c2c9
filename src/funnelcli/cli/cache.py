"""`funnel cache info|clear|build`: the Parquet cache that --cache reads."""

from __future__ import annotations

from typing import Annotated

import typer

from funnelcli.cli.options import (
    CacheDirOpt,
    CacheFormat,
    DataOpt,
    DebugOpt,
    FunnelArg,
    OutputOpt,
)
from funnelcli.cli.root import app
from funnelcli.cli.runtime import emit, funnel_path, guard, query_progress

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
        CacheFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CacheFormat.table,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """List the cached sources (files, rows, size on disk, when built) and the stored results.

    Example: funnel cache info --format json
    """

    def run() -> None:
        from funnelcli.commands.cache import cache_info

        emit(cache_info(cache_dir), fmt, output)

    guard(debug, run)


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None, debug: DebugOpt = False) -> None:
    """Delete every cached Parquet copy and stored result (rebuilt on the next --cache run):
    exactly the files the cache recorded writing, never another file in the folder.

    Example: funnel cache clear
    """

    def run() -> None:
        from funnelcli.commands.cache import clear_cache
        from funnelcli.render import Format

        emit(clear_cache(cache_dir), Format.table, None)

    guard(debug, run)


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
        from funnelcli.commands.cache import build_cache
        from funnelcli.commands.options import RunOptions
        from funnelcli.render import Format
        from funnelcli.spec import load_funnel

        definition = load_funnel(funnel_path(funnel))
        with query_progress(definition, data) as progress:
            options = RunOptions(data_dir=data, cache_dir=cache_dir, progress=progress)
            built = build_cache(definition, options)
        emit(built, Format.table, None)

    guard(debug, run)
