"""`funnel cohorts` as frozen, JSON-ready values (schema funnelcli.cohorts/1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from funnelcli.outputs.base import Artifact
from funnelcli.outputs.report import FunnelInfo
from funnelcli.outputs.summary import Interval

COHORTS_SCHEMA = "funnelcli.cohorts/1"


@dataclass(frozen=True)
class CohortCell:
    """One stage of one cohort."""

    count: int
    conversion_from_entry: float | None  # count / entered; null when nobody entered
    interval: Interval | None = None  # Wilson 95% of conversion_from_entry; null when n = 0


@dataclass(frozen=True)
class CohortRow:
    """The ids that entered in one period, and how far they got."""

    label: str
    start: str  # local, in the funnel's timezone
    end: str  # exclusive
    entered: int
    immature: bool  # later-stage cells may still grow
    partial: bool  # the period had not ended at as_of: entries still arriving
    cells: tuple[CohortCell, ...]  # one per stage, in funnel order


@dataclass(frozen=True)
class CohortMatrix(Artifact):
    """Everything `funnel cohorts` says, in the shape of funnelcli.cohorts/1."""

    schema: ClassVar[str] = COHORTS_SCHEMA
    schema_file: ClassVar[str] = "cohorts-1"

    funnel: FunnelInfo
    period: str
    week_start: str
    timezone: str
    as_of: str
    rows: tuple[CohortRow, ...]  # oldest first
    version: str

    def tidy_columns(self) -> tuple[str, ...]:
        return TIDY_COLUMNS

    def tidy_rows(self) -> list[dict[str, Any]]:
        """One record per cohort and stage."""
        return [
            {
                "cohort": row.label,
                "cohort_start": row.start,
                "cohort_end": row.end,
                "immature": row.immature,
                "partial": row.partial,
                "stage": stage.name,
                "count": cell.count,
                "conversion_from_entry": cell.conversion_from_entry,
            }
            for row in self.rows
            for stage, cell in zip(self.funnel.stages, row.cells, strict=True)
        ]


TIDY_COLUMNS = (
    "cohort",
    "cohort_start",
    "cohort_end",
    "immature",
    "partial",
    "stage",
    "count",
    "conversion_from_entry",
)
