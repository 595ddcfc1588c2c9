"""`funnel cache info|clear`: the Parquet cache that --cache reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from funnelcli.errors import UsageError
from funnelcli.render import Format

if TYPE_CHECKING:
    pass
from funnelcli.cli._base import (
    CacheDirOpt,
    DebugOpt,
    _guard,
    app,
)

cache_app = typer.Typer(
    help="Inspect or empty the Parquet cache that --cache reads sources from.\n\n"
    "Example: funnel cache info",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(
    cache_dir: CacheDirOpt = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Output format: table or json.")
    ] = Format.table,
    debug: DebugOpt = False,
) -> None:
    """List the cached sources: files, rows, size on disk, when built.

    Example: funnel cache info --format json
    """

    def run() -> None:
        import json

        from funnelcli import cache
        from funnelcli.paths import default_cache_dir

        folder = cache_dir or default_cache_dir()
        entries = cache.entries(folder)
        if fmt is Format.json:
            document = {
                "schema": "funnelcli.cache/1",
                "cache_dir": str(folder),
                "entries": [e.to_dict() for e in entries],
                "total_bytes": sum(e.bytes for e in entries),
            }
            typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
            return
        if fmt is not Format.table:
            raise UsageError("cache info: --format must be table or json")
        total = sum(e.bytes for e in entries)
        typer.echo(f"{folder}: {len(entries)} cached source(s), {_size(total)}")
        for e in entries:
            typer.echo(
                f"  {e.source}: {', '.join(e.files)} → {e.parquet.name} "
                f"({e.rows:,} rows, {_size(e.bytes)}, built {e.created})"
            )

    _guard(debug, run)


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None, debug: DebugOpt = False) -> None:
    """Delete every cached Parquet copy (they are rebuilt on the next --cache run).

    Example: funnel cache clear
    """

    def run() -> None:
        from funnelcli import cache
        from funnelcli.paths import default_cache_dir

        folder = cache_dir or default_cache_dir()
        files, size = cache.clear(folder)
        typer.echo(f"Removed {files} file(s), {_size(size)}, from {folder}")

    _guard(debug, run)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
