"""The funnel `funnel init` proposes, as values: every choice with the reason it was made, and
what still needs a human (windows, order policy, time zones). writer.py turns it into YAML."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DraftSource:
    name: str
    path: str  # as written in the YAML (relative to its folder when possible)
    shape: str  # wide | long | snapshot | lookup
    id: str | None = None
    account: str | None = None
    stage: str | None = None
    at: str | None = None
    key: str | None = None  # lookup
    join: str | None = None  # lookup
    day_first: bool | None = None
    why: str = ""  # the comment on the source's line


@dataclass
class DraftStage:
    name: str
    source: str | None = None  # None: the first source
    at: str | None = None
    match: list[str] | None = None
    value: str | None = None
    label: str | None = None
    why: str = ""


@dataclass
class Draft:
    """A proposed funnel and the reasons behind it."""

    sources: list[DraftSource]
    stages: list[DraftStage]
    lost: dict[str, object] | None = None
    lost_why: str = ""
    dimensions: list[str] = field(default_factory=list)
    breakdown: list[str] = field(default_factory=list)
    dimensions_why: str = ""
    human: list[str] = field(default_factory=list)  # choices the data cannot make
    notes: list[str] = field(default_factory=list)  # what else was seen (header comments)
