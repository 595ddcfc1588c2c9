"""`funnel cache info|build|clear` as text: plain lines (paths are never wrapped), the same on a
terminal and in a pipe."""

from __future__ import annotations

from pathlib import PurePath

from funnelcli.outputs.cache import CacheBuild, CacheCleared, CacheInfo
from funnelcli.render.wording import format_size


def draw(info: CacheInfo) -> str:
    """Plain lines (paths are never wrapped), the same on a terminal and in a pipe: a source's
    files, its copy and its figures each on a line of their own, so that only a path longer
    than the terminal is wider than 80 columns."""
    lines = [
        f"{info.cache_dir}: {len(info.entries)} cached source(s), {format_size(info.total_bytes)}"
    ]
    for entry in info.entries:
        lines.append(f"  {entry.source}: {', '.join(entry.files)}")
        lines.append(f"    → {PurePath(entry.parquet).name}")
        lines.append(f"    {entry.rows:,} rows, {format_size(entry.bytes)}, built {entry.created}")
    stored = info.results
    lines.append(f"  stored query results: {stored.entries}, {format_size(stored.bytes)}")
    return "\n".join(lines) + "\n"


def draw_build(build: CacheBuild) -> str:
    """One line per source: built or up to date, its copy, rows and size."""
    lines = []
    for copy in build.copies:
        size = "unreadable"
        if copy.rows is not None and copy.bytes is not None:
            size = f"{copy.rows:,} rows, {format_size(copy.bytes)}"
        state = "built" if copy.built else "up to date"
        lines.append(f"{copy.source}: {state} {copy.parquet} ({size})")
    return "".join(line + "\n" for line in lines)


def draw_cleared(cleared: CacheCleared) -> str:
    return (
        f"Removed {cleared.files} file(s), {format_size(cleared.bytes)}, from {cleared.cache_dir}\n"
    )
