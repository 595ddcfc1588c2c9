"""The Parquet cache of sources: keys, entries on disk, listing and clearing. No DuckDB here.

A source's files are converted once (by engine.py) to one zstd Parquet file sorted by entry
time. The entry's name is a hash of everything that decides its content: each file's path,
size, mtime and the bytes of its first and last 64 KiB, the source's settings in the YAML
(its whole model dump, so every reading option counts), the DuckDB version and the cache
format. Change any of them and the old entry is simply not found (and is replaced).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from funnelcli.engine import store
from funnelcli.errors import FunnelError

FORMAT = 1
RESULTS = "results"  # the stored query results (results.py), one folder down
READINGS = "readings"  # what sniffing each CSV found (reading_memo), one folder down
_SUFFIX = ".parquet"
_META = ".json"


@dataclass(frozen=True)
class CacheEntry:
    """One cached source: its Parquet file and what it was built from."""

    key: str
    parquet: Path
    source: str
    files: tuple[str, ...]
    rows: int
    bytes: int
    created: str

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "parquet": str(self.parquet),
            "source": self.source,
            "files": list(self.files),
            "rows": self.rows,
            "bytes": self.bytes,
            "created": self.created,
        }


def cache_key(
    source: BaseModel,
    files: Sequence[Path],
    engine_version: str,
    sort_column: str | None,
    reading: str = "",
) -> str:
    """The entry name for a source read from `files` with the settings in `source`; `reading`
    is the SQL of the typed view the copy is made of (detected date formats, types)."""
    parts = {
        "format": FORMAT,
        "engine": engine_version,
        "source": source.model_dump(mode="json"),
        "files": [store.fingerprint(f) for f in files],
        "sort": sort_column,
        "reading": reading,
    }
    return store.key(parts)


class ReadingMemo:
    """What probing a CSV source found (its sniffed dialect and headers, the date formats
    detected from samples), kept in `<cache dir>/readings/` so that a --cache run over
    unchanged files skips the probing. One file per (source settings, file paths, versions),
    overwritten when the files change, so the folder does not grow with every edit."""

    def __init__(self, cache_dir: Path, source: BaseModel, files: Sequence[Path], context: str):
        """`context`: what else decides the probing's outcome (versions, the columns asked)."""
        parts = {
            "format": FORMAT,
            "context": context,
            "source": source.model_dump(mode="json"),
            "files": [str(f.resolve()) for f in files],
        }
        self.path = cache_dir / READINGS / f"{store.key(parts)}{_META}"
        self._prints = [store.fingerprint(f) for f in files]

    def load(self) -> dict[str, Any] | None:
        """The recorded findings, or None when absent, unreadable or made from other files."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("files") != self._prints:
            return None
        found = data.get("found")
        return found if isinstance(found, dict) else None

    def save(self, found: dict[str, Any]) -> None:
        try:
            store.ensure_dir(self.path.parent)
            text = json.dumps({"files": self._prints, "found": found}, ensure_ascii=False)
            store.write_atomic(self.path, text + "\n")
        except (OSError, FunnelError):
            pass  # only a lost speed-up: the next run probes again


def parquet_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"{key}{_SUFFIX}"


def read_entry(cache_dir: Path, key: str) -> CacheEntry | None:
    """The entry recorded under `key`, or None when it or its Parquet file is missing or its
    record is unreadable (a half-written or damaged entry counts as absent)."""
    meta = cache_dir / f"{key}{_META}"
    parquet = parquet_path(cache_dir, key)
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        return CacheEntry(
            key=key,
            parquet=parquet,
            source=str(data["source"]),
            files=tuple(str(f) for f in data["files"]),
            rows=int(data["rows"]),
            bytes=parquet.stat().st_size,
            created=str(data["created"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_entry(cache_dir: Path, key: str, source: str, files: Sequence[Path], rows: int) -> None:
    """Write the entry's record (after its Parquet file is in place) and drop older entries
    built from the same files, which can no longer be hit."""
    names = [str(f.resolve()) for f in files]
    for entry in entries(cache_dir):
        if entry.key != key and list(entry.files) == names:
            remove_entry(cache_dir, entry.key)
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    record = {"source": source, "files": names, "rows": rows, "created": created}
    store.write_atomic(cache_dir / f"{key}{_META}", json.dumps(record, ensure_ascii=False) + "\n")


def remove_entry(cache_dir: Path, key: str) -> None:
    for path in (cache_dir / f"{key}{_META}", parquet_path(cache_dir, key)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def entries(cache_dir: Path) -> list[CacheEntry]:
    """Every readable entry in the folder, oldest first."""
    found = [
        entry
        for meta in _files(cache_dir, _META)
        if (entry := read_entry(cache_dir, meta.name[: -len(_META)])) is not None
    ]
    return sorted(found, key=lambda e: (e.created, e.key))


def clear(cache_dir: Path) -> tuple[int, int]:
    """Delete every cache file in the folder and its results/ and readings/ folders (entries,
    stored results, probing memos, records, leftovers of interrupted writes); anything else in
    them stays. Returns (files,
    bytes) removed."""
    removed = 0
    size = 0
    for folder in (cache_dir, cache_dir / RESULTS, cache_dir / READINGS):
        found = [*_files(folder, _SUFFIX), *_files(folder, _META), *_temp_files(folder)]
        for path in found:
            with contextlib.suppress(FileNotFoundError):
                size += path.stat().st_size
                path.unlink()
                removed += 1
    for ours in (RESULTS, READINGS):  # kept only if something else was put in them
        with contextlib.suppress(OSError):
            (cache_dir / ours).rmdir()
    return removed, size


def _files(cache_dir: Path, suffix: str) -> Iterator[Path]:
    if not cache_dir.is_dir():
        return iter(())
    return (p for p in cache_dir.iterdir() if p.name.endswith(suffix) and _is_key(p.name))


def _temp_files(cache_dir: Path) -> Iterator[Path]:
    if not cache_dir.is_dir():
        return iter(())
    return (p for p in cache_dir.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def _is_key(name: str) -> bool:
    stem = name.split(".", 1)[0]
    return len(stem) == 40 and all(c in "0123456789abcdef" for c in stem)
