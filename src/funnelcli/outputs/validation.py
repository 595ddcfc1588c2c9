"""What `funnel validate` found in a valid funnel: its stages, its sources and the roi: inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from funnelcli.outputs.base import Artifact

VALIDATION_SCHEMA = "funnelcli.validation/1"


@dataclass(frozen=True)
class SourceCheck:
    """One declared source: its files (as resolved) and how many columns it has."""

    name: str
    files: tuple[str, ...]  # file names
    columns: int
    # each time column read from text, and the format(s) it is read with (detected or declared)
    dates: tuple[tuple[str, str], ...] = ()
    table: str | None = None  # a `table:` source (no files; another engine reads it)


@dataclass(frozen=True)
class SharedMatch:
    """A `match:` value two or more stages of one source list: a row with it is evidence for
    each of them (docs/semantics.md, Evidence)."""

    source: str
    value: str
    stages: tuple[str, ...]  # in declared order


@dataclass(frozen=True)
class ValidationResult(Artifact):
    """A funnel whose YAML, files, columns, dates and amounts all read (else an error); its
    JSON is funnelcli.validation/1."""

    schema: ClassVar[str] = VALIDATION_SCHEMA
    schema_file: ClassVar[str] = "validation-1"

    file: str
    stages: tuple[str, ...]
    sources: tuple[SourceCheck, ...]
    spend_rows: int | None  # roi: spend rows, None without roi:
    contracts: int | None  # roi.subscriptions: contracts, None without them
    shared_matches: tuple[SharedMatch, ...] = ()  # warnings: one row, several stages
    any_order: bool = False  # order: any: the stages in any order (absent in JSON otherwise)

    def to_dict(self) -> dict[str, Any]:
        """The funnelcli.validation/1 document; `shared_matches` only when there are."""
        document = super().to_dict()
        for source in document["sources"]:
            if source["table"] is None:
                del source["table"]
        if not document["shared_matches"]:
            del document["shared_matches"]
        if not document["any_order"]:
            del document["any_order"]
        return document
