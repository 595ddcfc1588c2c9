"""Pure money formulas of `funnel roi` (docs/money.md): proration, ROI/CAC/LTV, renewals.

Inputs are plain values (Decimal amounts, dates); divisions by zero give None, never inf.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from funnelcli.compile.columns import NONE_GROUP
from funnelcli.outputs.roi import ChannelRoi, Renewals


def ratio(numerator: Decimal | float | int, denominator: Decimal | float | int) -> float | None:
    """numerator / denominator as a float; None when the denominator is 0."""
    if not denominator:
        return None
    return float(Decimal(numerator) / Decimal(denominator))


def prorated(
    amount: Decimal, start: datetime, end: datetime, since: datetime | None, until: datetime | None
) -> Decimal:
    """The part of `amount` (spent evenly over [start, end)) that falls in [since, until)."""
    lower = max(start, since) if since is not None else start
    upper = min(end, until) if until is not None else end
    if upper <= lower:
        return Decimal(0)
    if lower == start and upper == end:
        return amount
    inside = Decimal((upper - lower).total_seconds())
    return amount * inside / Decimal((end - start).total_seconds())


@dataclass(frozen=True)
class SpendRow:
    """Spend of one channel over one day or month (summed over the file's rows for it)."""

    channel: str  # as written in the spend file
    start: datetime  # the day or month the row covers: [start, end)
    end: datetime
    amount: Decimal
    rows: int


@dataclass(frozen=True)
class SpendAllocation:
    """Spend in the period per lead channel; what matches no lead channel is kept apart."""

    by_channel: Mapping[str, tuple[Decimal, int]]  # lead channel → (amount, spend rows)
    unmatched: Mapping[tuple[str, str], tuple[Decimal, int]]  # (spend name, mapped) → …
    total: Decimal  # every row's part in the period, matched or not
    rows: int


def allocate_spend(
    rows: Iterable[SpendRow],
    channels: Collection[str],
    since: datetime | None,
    until: datetime | None,
    channel_map: Mapping[str, str],
) -> SpendAllocation:
    """Each spend row's part in [since, until) (prorated by time), under its lead channel
    (`channel_map` renames spend names first); a name no lead carries is reported, not
    dropped. A row outside the period counts nowhere; one overlapping it with a zero part
    still counts its rows."""
    matched: dict[str, tuple[Decimal, int]] = {}
    unmatched: dict[tuple[str, str], tuple[Decimal, int]] = {}
    total, count = Decimal(0), 0
    for row in rows:
        part = prorated(row.amount, row.start, row.end, since, until)
        overlaps = (since is None or row.end > since) and (until is None or row.start < until)
        if part == 0 and not overlaps:
            continue
        mapped = channel_map.get(row.channel, row.channel)
        total += part
        count += row.rows
        if mapped in channels:
            amount, n = matched.get(mapped, (Decimal(0), 0))
            matched[mapped] = (amount + part, n + row.rows)
        else:
            amount, n = unmatched.get((row.channel, mapped), (Decimal(0), 0))
            unmatched[(row.channel, mapped)] = (amount + part, n + row.rows)
    return SpendAllocation(matched, unmatched, total, count)


def decimal(value: Any) -> Decimal:
    """A DuckDB number (Decimal, float, int) or NULL as an exact Decimal (NULL: 0)."""
    return Decimal(0) if value is None else Decimal(str(value))


def renewals_of_row(row: Mapping[str, Any]) -> Renewals:
    """A renewal query's row (columns up, renewed, amount_up, retained, following) as Renewals;
    a NULL count or sum (no row up) is 0."""
    return renewal_numbers(
        int(row["up"] or 0),
        int(row["renewed"] or 0),
        decimal(row["amount_up"]),
        decimal(row["retained"]),
        decimal(row["following"]),
    )


def renewal_numbers(
    count: int, renewed: int, amount_up: Decimal, retained: Decimal, following: Decimal
) -> Renewals:
    """Rates from the sums: renewal rate, logo churn, GRR and NRR (null on a zero base)."""
    rate = ratio(renewed, count)
    return Renewals(
        up_for_renewal=count,
        renewed=renewed,
        amount_up=float(amount_up),
        amount_retained=float(retained),
        amount_next=float(following),
        renewal_rate=rate,
        logo_churn=None if rate is None else 1.0 - rate,
        grr=ratio(retained, amount_up) if amount_up > 0 else None,
        nrr=ratio(following, amount_up) if amount_up > 0 else None,
    )


@dataclass(frozen=True)
class ChannelCounts:
    """What the funnel and the spend file say about one channel (or all of them)."""

    channel: str
    spend: Decimal
    spend_rows: int
    leads: int
    qualified: int
    customers: int
    first_period_revenue: Decimal
    renewal_revenue: Decimal


def channel_roi(
    counts: ChannelCounts,
    *,
    gross_margin: float | None,
    contract_months: int | None,
    renewal: Renewals | None,
) -> ChannelRoi:
    """Every derived number of one channel row (formulas: docs/money.md)."""
    spend = counts.spend
    has_spend = counts.spend_rows > 0
    attributed = counts.first_period_revenue + counts.renewal_revenue
    cac = ratio(spend, counts.customers) if has_spend else None
    revenue_per_customer = ratio(counts.first_period_revenue, counts.customers)
    payback = None
    if (
        cac is not None
        and revenue_per_customer
        and gross_margin is not None
        and contract_months is not None
    ):
        monthly = revenue_per_customer / contract_months
        payback = cac / (monthly * gross_margin)
    ltv = None
    churn = renewal.logo_churn if renewal is not None else None
    if revenue_per_customer is not None and gross_margin is not None and churn:
        ltv = revenue_per_customer * gross_margin / churn
    return ChannelRoi(
        channel=counts.channel,
        spend=float(spend),
        spend_rows=counts.spend_rows,
        leads=counts.leads,
        qualified=counts.qualified,
        customers=counts.customers,
        first_period_revenue=float(counts.first_period_revenue),
        renewal_revenue=float(counts.renewal_revenue),
        attributed_revenue=float(attributed),
        cost_per_lead=ratio(spend, counts.leads) if has_spend else None,
        cost_per_qualified_lead=ratio(spend, counts.qualified) if has_spend else None,
        cac=cac,
        roi=ratio(attributed - spend, spend),
        payback_months=payback,
        ltv=ltv,
        ltv_to_cac=(ltv / cac) if ltv is not None and cac else None,
        renewals=renewal,
    )


def by_roi(rows: Iterable[ChannelRoi]) -> list[ChannelRoi]:
    """Highest ROI first; channels without ROI last, by spend then name."""
    return sorted(
        rows, key=lambda r: (r.roi is None, -(r.roi or 0.0), -r.spend, -r.leads, r.channel)
    )


_NONE_UP = renewal_numbers(0, 0, Decimal(0), Decimal(0), Decimal(0))


@dataclass(frozen=True)
class ContractRenewals:
    """Renewals from a contracts file: in total, per channel of origin, per cohort (year)."""

    total: Renewals
    by_channel: Mapping[str, Renewals]
    by_cohort: Mapping[str, Renewals]

    def of(self, channel: str | None) -> Renewals:
        """A channel's numbers (all zero when none of its contracts was up), or the total."""
        if channel is None:
            return self.total
        return self.by_channel.get(channel) or _NONE_UP


def contract_renewals(rows: Sequence[Mapping[str, Any]]) -> ContractRenewals:
    """The contract renewal query's rows (compile/roi.py; exact DECIMAL sums) as Renewals."""
    total = _NONE_UP
    channels: dict[str, Renewals] = {}
    cohorts: dict[str, Renewals] = {}
    for row in rows:
        numbers = renewals_of_row(row)
        if row["by_channel"]:
            channels[str(row["channel"])] = numbers
        elif row["by_cohort"]:
            cohorts[str(row["cohort"])] = numbers
        else:
            total = numbers
    return ContractRenewals(total, channels, dict(sorted(cohorts.items())))


def stage_renewals(rows: Sequence[Mapping[str, Any]]) -> dict[str | None, Renewals]:
    """The stage renewal query's rows as Renewals per channel (key None: blended)."""
    out: dict[str | None, Renewals] = {}
    for row in rows:
        key = None if row["is_total"] else str(row["channel"] or NONE_GROUP)
        out[key] = renewals_of_row(row)
    return out
