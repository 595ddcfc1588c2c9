"""`funnel trace` as a frozen, JSON-ready value (schema funnelcli.trace/1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from funnelcli.outputs.base import Artifact

TRACE_SCHEMA = "funnelcli.trace/1"


@dataclass(frozen=True)
class EvidenceStage:
    """One stage a row is evidence for."""

    stage: str
    at: str | None  # its evidence time (null: untimed evidence)
    value: float | None
    after_as_of: bool = False  # timed after --as-of: shown, never counted (not_after)


@dataclass(frozen=True)
class EvidenceRow:
    """One row of a source whose key is the traced id."""

    source: str
    file: str
    row: int  # 1-based data row in the source's files (the header is not counted)
    stages: tuple[EvidenceStage, ...]  # empty: the row is evidence for no stage
    lost: bool  # the row is `lost:` evidence
    line: int | None = None  # the physical line it starts on (a one-file CSV source)
    lost_after_as_of: bool = False  # its `lost.at` is after --as-of: shown, never counted


@dataclass(frozen=True)
class RejectedRow:
    """A row of the traced key set aside: a time that cannot be read (it is evidence for
    nothing and brings no attribute: docs/semantics.md, Rejected rows)."""

    source: str
    file: str
    line: int  # the header is line 1
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class TracedStage:
    """One stage: counted or not, and the rule of docs/semantics.md that decided."""

    stage: str
    counted: bool
    rule: str  # metrics.trace.Rule
    reached_at: str | None  # the qualifying time (counted explicitly)
    value: float | None
    evidence_at: str | None  # the evidence time the rule was applied to
    limit: str | None  # the bound that time broke
    other_stage: str | None  # the stage the bound came from


@dataclass(frozen=True)
class Trace(Artifact):
    """Everything `funnel trace` says, in the shape of funnelcli.trace/1."""

    schema: ClassVar[str] = TRACE_SCHEMA
    schema_file: ClassVar[str] = "trace-1"

    funnel: str
    file: str
    id: str
    grain: str
    order: str
    window: str | None
    since: str | None
    until: str | None
    as_of: str | None
    entry_at: str | None
    in_cohort: bool
    exclusions: tuple[str, ...]  # metrics.trace.Exclusion: why it is outside the cohort
    immature: bool
    lost: bool
    attributes: dict[str, str]
    stages: tuple[TracedStage, ...]
    evidence: tuple[EvidenceRow, ...]
    rejected: tuple[RejectedRow, ...]
    version: str

    def tidy_columns(self) -> tuple[str, ...]:
        return ("stage", "counted", "rule", "reached_at", "value", "evidence_at", "limit")

    def tidy_rows(self) -> list[dict[str, Any]]:
        """One record per stage."""
        return [{c: getattr(s, c) for c in self.tidy_columns()} for s in self.stages]
