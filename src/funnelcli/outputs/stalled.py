"""`funnel stalled` as a frozen, JSON-ready value (schema funnelcli.stalled/1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from funnelcli.outputs.base import Artifact

STALLED_SCHEMA = "funnelcli.stalled/1"


@dataclass(frozen=True)
class StalledId:
    """One id waiting at (or dropped at) the stage."""

    id: str
    entered_at: str | None  # the funnel entry (ISO, UTC)
    reached_at: str | None  # when it reached the stage; null when only implied (backfill)
    waiting_since: str | None  # reached_at, else the latest earlier stage time, else entry
    days_waiting: float | None  # as_of − waiting_since, in days
    value: float | None  # the stage's value: on the row that gave reached_at (if it has one)
    attributes: dict[str, str]  # each dimension's value as of entry


@dataclass(frozen=True)
class StalledCounts:
    """How the stage's count splits (what reconciles with `funnel report`)."""

    at_stage: int  # the report's count at the stage
    next_stage: int  # the report's count at the next stage
    stalled: int  # reached the stage, not the next, still inside the window
    dropped: int  # reached the stage, not the next, window run out (the report's drop-off)


@dataclass(frozen=True)
class StalledList(Artifact):
    """Everything `funnel stalled` says, in the shape of funnelcli.stalled/1."""

    schema: ClassVar[str] = STALLED_SCHEMA
    schema_file: ClassVar[str] = "stalled-1"

    funnel: str
    file: str
    stage: str
    next_stage: str
    listing: str  # "stalled" or "dropped"
    window: str | None
    since: str | None
    until: str | None
    as_of: str | None
    older_than: str | None  # only ids waiting at least this long are listed (e.g. "14d")
    by: tuple[str, ...]  # the ids are grouped by these attributes, then by days waiting
    dimensions: tuple[str, ...]  # the attributes each id carries
    has_value: bool  # whether the stage declares a value:
    counts: StalledCounts
    ids: tuple[StalledId, ...]
    version: str

    def tidy_columns(self) -> tuple[str, ...]:
        return ("id", "entered_at", "reached_at", "days_waiting", "value", *self.dimensions)

    def tidy_rows(self) -> list[dict[str, Any]]:
        """One record per id: ready for a CRM import or a mail merge."""
        return [
            {
                "id": item.id,
                "entered_at": item.entered_at,
                "reached_at": item.reached_at,
                "days_waiting": item.days_waiting,
                "value": item.value,
                **{name: item.attributes.get(name) for name in self.dimensions},
            }
            for item in self.ids
        ]
