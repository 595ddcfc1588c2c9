"""`funnel roi` as frozen, JSON-ready values (schema funnelcli.roi/1); nothing computes here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from funnelcli.outputs.base import Artifact
from funnelcli.outputs.report import FunnelInfo, Period

ROI_SCHEMA = "funnelcli.roi/1"
BLENDED = "(blended)"


@dataclass(frozen=True)
class Renewals:
    """Contracts that came up for renewal and what they renewed into (docs/money.md)."""

    up_for_renewal: int  # contracts whose end is in the period and decided by as_of
    renewed: int  # … followed by the account's next contract within the grace
    amount_up: float  # Σ amount of the contracts up for renewal
    amount_retained: float  # Σ min(next amount, amount) over renewed contracts
    amount_next: float  # Σ next amount over renewed contracts (expansion included)
    renewal_rate: float | None  # renewed / up_for_renewal
    logo_churn: float | None  # 1 - renewal_rate
    grr: float | None  # amount_retained / amount_up (≤ 1 by construction)
    nrr: float | None  # amount_next / amount_up


@dataclass(frozen=True)
class ChannelRoi:
    """One channel (lead channel value) or the blended row: spend against what its leads did."""

    channel: str
    spend: float  # spend in the period (month rows prorated by days), 0 without spend rows
    spend_rows: int  # spend rows that fell (partly) in the period
    leads: int  # entry cohort of the period from this channel
    qualified: int
    customers: int  # reached the revenue stage
    first_period_revenue: float  # Σ revenue-stage value
    renewal_revenue: float  # Σ renewal-stage value (0 without roi.renewal)
    attributed_revenue: float  # first_period_revenue + renewal_revenue
    cost_per_lead: float | None
    cost_per_qualified_lead: float | None
    cac: float | None
    roi: float | None  # (attributed_revenue - spend) / spend
    payback_months: float | None
    ltv: float | None
    ltv_to_cac: float | None
    renewals: Renewals | None  # null without roi.subscriptions


@dataclass(frozen=True)
class UnmatchedSpend:
    """Spend whose (mapped) channel is no lead's channel value: in blended only."""

    spend_channel: str  # as written in the spend file
    mapped_to: str  # after channel_map (same when not mapped)
    amount: float
    rows: int


@dataclass(frozen=True)
class CohortRenewals:
    cohort: str  # year of the account's first contract start
    renewals: Renewals


@dataclass(frozen=True)
class RoiReport(Artifact):
    """Everything `funnel roi` says, in the shape of funnelcli.roi/1."""

    schema: ClassVar[str] = ROI_SCHEMA
    schema_file: ClassVar[str] = "roi-1"

    funnel: FunnelInfo
    period: Period
    channel_attribute: str
    gross_margin: float | None
    contract_months: int | None
    channels: tuple[ChannelRoi, ...]  # sorted by ROI, highest first, nulls last
    blended: ChannelRoi
    unmatched_spend: tuple[UnmatchedSpend, ...]
    renewals_by_cohort: tuple[CohortRenewals, ...]
    renewals_as_of: str | None
    version: str
    unparseable_amounts: dict[str, int]  # "source.column" → amounts left out (docs/money.md)
    renewals_from: str | None  # "subscriptions", "stages" (renewal stage) or None
    rows_rejected: dict[str, int]  # source → rows set aside (unreadable dates), as in the report

    def tidy_columns(self) -> tuple[str, ...]:
        return TIDY_COLUMNS

    def tidy_rows(self) -> list[dict[str, Any]]:
        """One record per channel, then the blended row (channel `(blended)`)."""
        return [_channel_record(row) for row in (*self.channels, self.blended)]


_RENEWAL_COLUMNS = ("up_for_renewal", "renewed", "renewal_rate", "logo_churn", "grr", "nrr")
TIDY_COLUMNS = (
    "channel",
    "spend",
    "spend_rows",
    "leads",
    "qualified",
    "customers",
    "cost_per_lead",
    "cost_per_qualified_lead",
    "cac",
    "first_period_revenue",
    "renewal_revenue",
    "attributed_revenue",
    "roi",
    "payback_months",
    "ltv",
    "ltv_to_cac",
    *_RENEWAL_COLUMNS,
)


def _channel_record(row: ChannelRoi) -> dict[str, Any]:
    record: dict[str, Any] = {name: getattr(row, name) for name in TIDY_COLUMNS[:16]}
    for name in _RENEWAL_COLUMNS:
        record[name] = getattr(row.renewals, name) if row.renewals is not None else None
    return record
