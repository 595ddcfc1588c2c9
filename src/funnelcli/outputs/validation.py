"""What `funnel validate` found in a valid funnel: its stages, its sources and the roi: inputs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceCheck:
    """One declared source: its files (as resolved) and how many columns it has."""

    name: str
    files: tuple[str, ...]  # file names
    columns: int


@dataclass(frozen=True)
class SharedMatch:
    """A `match:` value two or more stages of one source list: a row with it is evidence for
    each of them (docs/semantics.md, Evidence)."""

    source: str
    value: str
    stages: tuple[str, ...]  # in declared order


@dataclass(frozen=True)
class ValidationResult:
    """A funnel whose YAML, files, columns, dates and amounts all read (else an error)."""

    file: str
    stages: tuple[str, ...]
    sources: tuple[SourceCheck, ...]
    spend_rows: int | None  # roi: spend rows, None without roi:
    contracts: int | None  # roi.subscriptions: contracts, None without them
    shared_matches: tuple[SharedMatch, ...] = ()  # warnings: one row, several stages
