"""`funnel cache info` as a frozen, JSON-ready value (schema funnelcli.cache/1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from funnelcli.outputs.base import Artifact

CACHE_SCHEMA = "funnelcli.cache/1"


@dataclass(frozen=True)
class CachedSource:
    """One Parquet copy in the cache: the source and files it was built from, and when."""

    key: str  # hash of the files' fingerprints and the source's settings
    parquet: str  # path of the copy
    source: str  # the source's name in the YAML that built it
    files: tuple[str, ...]  # absolute paths of the files it was built from
    rows: int
    bytes: int  # size of the Parquet file
    created: str  # when it was built (UTC, ISO 8601)


@dataclass(frozen=True)
class StoredResults:
    """The stored query results that let a re-run over unchanged files skip the query."""

    entries: int
    bytes: int


@dataclass(frozen=True)
class CacheInfo(Artifact):
    """Everything `funnel cache info` says, in the shape of funnelcli.cache/1."""

    schema: ClassVar[str] = CACHE_SCHEMA
    schema_file: ClassVar[str] = "cache-1"

    cache_dir: str
    entries: tuple[CachedSource, ...]  # oldest first
    total_bytes: int  # Σ the entries' Parquet sizes
    results: StoredResults

    def tidy_columns(self) -> tuple[str, ...]:
        return TIDY_COLUMNS

    def tidy_rows(self) -> list[dict[str, Any]]:
        """One record per cached source (its files as one text, separated by "; ")."""
        return [
            {
                name: "; ".join(entry.files) if name == "files" else getattr(entry, name)
                for name in TIDY_COLUMNS
            }
            for entry in self.entries
        ]


TIDY_COLUMNS = ("key", "parquet", "source", "files", "rows", "bytes", "created")


@dataclass(frozen=True)
class BuiltCopy:
    """One source's copy after `funnel cache build`: built now, or still up to date."""

    source: str
    built: bool  # False: the copy was already up to date
    parquet: str
    rows: int | None  # None when its record cannot be read
    bytes: int | None


@dataclass(frozen=True)
class CacheBuild:
    """What `funnel cache build` did, source by source."""

    copies: tuple[BuiltCopy, ...]


@dataclass(frozen=True)
class CacheCleared:
    """What `funnel cache clear` removed."""

    cache_dir: str
    files: int
    bytes: int
