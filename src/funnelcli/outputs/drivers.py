"""`funnel drivers` as a frozen, JSON-ready value (schema funnelcli.drivers/1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from funnelcli.outputs.base import Artifact

DRIVERS_SCHEMA = "funnelcli.drivers/1"


@dataclass(frozen=True)
class Driver:
    """One attribute value (or numeric bin) against the rest of the cohort."""

    attribute: str
    value: str
    binned: bool  # a bin of a numeric attribute
    n: int  # keys in the group that reached the from stage
    converted: int  # of those, keys that reached the stage
    rate: float
    rate_low: float  # Wilson 95%
    rate_high: float
    rest_n: int
    rest_converted: int
    rest_rate: float | None
    odds_ratio: float
    odds_ratio_low: float  # 95%, Woolf
    odds_ratio_high: float
    corrected: bool  # a zero cell: 0.5 added to each
    p_value: float  # two-proportion z-test
    p_adjusted: float  # Benjamini–Hochberg over every driver listed


@dataclass(frozen=True)
class Drivers(Artifact):
    """Everything `funnel drivers` says, in the shape of funnelcli.drivers/1."""

    schema: ClassVar[str] = DRIVERS_SCHEMA
    schema_file: ClassVar[str] = "drivers-1"

    funnel: str
    file: str
    from_stage: str
    stage: str
    since: str | None
    until: str | None
    as_of: str | None
    min_n: int
    correction: str  # "benjamini-hochberg"
    n: int  # the cohort's keys that reached the from stage
    converted: int
    rate: float | None
    attributes: tuple[str, ...]  # attributes compared (categorical)
    numeric: tuple[str, ...]  # attributes binned by quartile
    skipped: int  # groups below min_n (not tested)
    drivers: tuple[Driver, ...]  # ranked: smallest adjusted p, then largest |ln OR|
    version: str

    def tidy_columns(self) -> tuple[str, ...]:
        return TIDY_COLUMNS

    def tidy_rows(self) -> list[dict[str, Any]]:
        """One record per driver, ranked."""
        return [
            {"rank": i, **{c: getattr(d, c) for c in TIDY_COLUMNS[1:]}}
            for i, d in enumerate(self.drivers, start=1)
        ]


TIDY_COLUMNS = (
    "rank",
    "attribute",
    "value",
    "binned",
    "n",
    "converted",
    "rate",
    "rate_low",
    "rate_high",
    "rest_n",
    "rest_converted",
    "rest_rate",
    "odds_ratio",
    "odds_ratio_low",
    "odds_ratio_high",
    "corrected",
    "p_value",
    "p_adjusted",
)
