"""`funnel cache info` as text: the folder, one line per cached source, the stored results."""

from __future__ import annotations

from pathlib import PurePath

from funnelcli.outputs.cache import CacheInfo
from funnelcli.render.wording import format_size


def draw(info: CacheInfo) -> str:
    """Plain lines (paths are never wrapped), the same on a terminal and in a pipe."""
    lines = [
        f"{info.cache_dir}: {len(info.entries)} cached source(s), {format_size(info.total_bytes)}"
    ]
    for entry in info.entries:
        lines.append(
            f"  {entry.source}: {', '.join(entry.files)} → {PurePath(entry.parquet).name} "
            f"({entry.rows:,} rows, {format_size(entry.bytes)}, built {entry.created})"
        )
    stored = info.results
    lines.append(f"  stored query results: {stored.entries}, {format_size(stored.bytes)}")
    return "\n".join(lines) + "\n"
