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
    ids: int | None = None  # attempts: each (count is attempts): keys with one here; else absent


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

    def to_dict(self) -> dict[str, Any]:
        """funnelcli.cohorts/1: a cell's `ids` only under attempts: each."""
        document = super().to_dict()
        if self.funnel.attempts != "each":
            for row in document["rows"]:
                for cell in row["cells"]:
                    del cell["ids"]
        return document

    def tidy_columns(self) -> tuple[str, ...]:
        return (*TIDY_COLUMNS, "ids") if self.funnel.per_attempt else TIDY_COLUMNS

    def tidy_rows(self) -> list[dict[str, Any]]:
        """One record per cohort and stage (`ids` under attempts: each)."""
        each = self.funnel.per_attempt
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
                **({"ids": cell.ids} if each else {}),
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
