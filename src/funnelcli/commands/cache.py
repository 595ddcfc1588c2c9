"""`funnel cache info|clear|build` as library calls: the Parquet cache that --cache reads."""

from __future__ import annotations

from pathlib import Path

from funnelcli.commands.options import RunOptions
from funnelcli.engine import copies, open_engine, results
from funnelcli.engine.store import default_cache_dir
from funnelcli.outputs.cache import (
    BuiltCopy,
    CacheBuild,
    CacheCleared,
    CachedSource,
    CacheInfo,
    StoredResults,
)
from funnelcli.spec import Funnel


def cache_info(cache_dir: Path | None = None) -> CacheInfo:
    """The cached sources (files, rows, size on disk, when built) and the stored results."""
    folder = cache_dir or default_cache_dir()
    entries = copies.entries(folder)
    stored, stored_bytes = results.usage(folder)
    return CacheInfo(
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


def clear_cache(cache_dir: Path | None = None) -> CacheCleared:
    """Delete every cached copy, stored result and probing memo (rebuilt on the next use)."""
    folder = cache_dir or default_cache_dir()
    files, size = copies.clear(folder)
    return CacheCleared(cache_dir=str(folder), files=files, bytes=size)


def build_cache(funnel: Funnel, options: RunOptions | None = None) -> CacheBuild:
    """Build (or check) the Parquet copies of the funnel's sources without running a report;
    copies still up to date are left as they are."""
    options = options or RunOptions()
    folder = options.cache_dir or default_cache_dir()
    with open_engine(
        funnel, options.data_dir, parquet_cache=folder, progress=options.progress
    ) as engine:
        found = dict(engine.copies)
    built = []
    for name, (parquet, fresh) in found.items():
        entry = copies.read_entry(folder, parquet.name.removesuffix(".parquet"))
        built.append(
            BuiltCopy(
                source=name,
                built=fresh,
                parquet=str(parquet),
                rows=entry.rows if entry else None,
                bytes=entry.bytes if entry else None,
            )
        )
    return CacheBuild(copies=tuple(built))
