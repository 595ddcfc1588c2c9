"""`funnel roi` as a library call: the funnel by channel, the spend file, the contracts → RoiReport.

Definitions are in docs/money.md; the formulas themselves live in roi_metrics.py (pure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlglot import exp

from funnelcli import __version__
from funnelcli.commands.report import cache_folder, count_unparseable, funnel_info, run_query
from funnelcli.commands.roi_inputs import (
    SpendRow,
    contracts_query,
    origin_query,
    over_contracts,
    read_spend,
    roi_sources,
)
from funnelcli.compile import ReportQuery
from funnelcli.compile.contract_renewals import (
    ContractRenewals,
    contract_renewal_query,
    contract_renewals,
)
from funnelcli.compile.resolve import Resolver
from funnelcli.compile.stage_renewals import stage_renewal_query, stage_renewals
from funnelcli.engine import open_engine
from funnelcli.errors import SpecError
from funnelcli.metrics.money import ChannelCounts, by_roi, channel_roi, decimal, prorated
from funnelcli.outputs.report import Period
from funnelcli.outputs.roi import BLENDED, CohortRenewals, Renewals, RoiReport, UnmatchedSpend
from funnelcli.spec import Funnel
from funnelcli.sql import ast as q


@dataclass(frozen=True)
class RoiQuery:
    since: datetime | None = None
    until: datetime | None = None
    as_of: datetime | None = None


def build_roi(
    funnel: Funnel,
    query: RoiQuery | None = None,
    data_dir: Path | None = None,
    *,
    cache: bool | None = None,
    cache_dir: Path | None = None,
) -> RoiReport:
    """Run the funnel per channel, read spend (and contracts) and compute every ROI number.
    `cache`/`cache_dir` as in report.build_report (spend and contracts are read directly)."""
    query = query or RoiQuery()
    roi = funnel.spec.roi
    if roi is None:
        raise SpecError(
            "no roi: block: declare roi: {spend: …, revenue: STAGE} (see docs/money.md)",
            file=funnel.file,
        )
    extra = roi_sources(funnel, roi, data_dir)
    report_query = ReportQuery(
        since=query.since,
        until=query.until,
        as_of=query.as_of,
        breakdowns=((roi.channel,),),
        known_values=(roi.channel,),
    )
    folder = cache_folder(funnel, cache, cache_dir)
    with open_engine(funnel, data_dir, extra, parquet_cache=folder) as engine:
        resolver = Resolver(funnel, engine.schema())
        resolver.attribute_source(roi.channel, "roi.channel")
        compiled, rows = run_query(engine, funnel, report_query)
        unparseable = count_unparseable(engine, compiled)
        rows_rejected, _by_reason = engine.reject_counts()
        spend_rows = read_spend(engine, funnel, roi)
        from_contracts: ContractRenewals | None = None
        from_stages: dict[str | None, Renewals] | None = None
        as_of = query.as_of.date() if query.as_of else None
        if roi.subscriptions is not None:
            contracts = contracts_query(engine, funnel, roi)
            if as_of is None:  # the latest contract start: what the file knows about
                as_of = over_contracts(engine, contracts, exp.Max(this=q.col("start")))
            grace = timedelta(seconds=roi.renewal_grace.seconds, days=30 * roi.renewal_grace.months)
            renewals_sql = contract_renewal_query(
                contracts,
                origin_query(engine, funnel, roi, resolver),
                query.since,
                query.until,
                as_of,
                grace.days,  # contract dates are days: date + timedelta adds whole days
            )
            from_contracts = contract_renewals(engine.rows(renewals_sql))
        elif roi.renewal is not None and roi.contract_months is not None:
            names = [s.name for s in funnel.spec.stages]
            renewal_query = stage_renewal_query(
                compiled,
                roi.channel,
                names.index(roi.revenue) + 1,
                names.index(roi.renewal) + 1,
                roi.contract_months,
                roi.renewal_grace,
            )
            from_stages = stage_renewals(engine.rows(renewal_query, exact=False))
    group = compiled.group_columns[roi.channel]
    totals = next((r for r in rows if r.get(group) is None), {})
    by_channel = {str(r[group]): r for r in rows if r.get(group) is not None}
    # A channel whose leads all entered outside the period: no report row, zero leads here.
    for known in totals.get(compiled.value_lists[roi.channel]) or ():
        by_channel.setdefault(str(known), {})
    stages = [s.name for s in funnel.spec.stages]
    k_qualified = stages.index(roi.qualified) + 1 if roi.qualified else min(2, len(stages))
    k_revenue = stages.index(roi.revenue) + 1
    k_renewal = stages.index(roi.renewal) + 1 if roi.renewal else None

    # Spend per lead channel in the period; names no lead carries are reported, not dropped.
    spend: dict[str, tuple[Decimal, int]] = {}
    unmatched: dict[tuple[str, str], tuple[Decimal, int]] = {}
    total_spend, total_rows = Decimal(0), 0
    for row in spend_rows:
        part = prorated(row.amount, row.start, row.end, query.since, query.until)
        if part == 0 and not _overlaps(row, query):
            continue
        mapped = roi.channel_map.get(row.channel, row.channel)
        total_spend += part
        total_rows += row.rows
        target = spend if mapped in by_channel else unmatched
        key: Any = mapped if target is spend else (row.channel, mapped)
        amount, count = target.get(key, (Decimal(0), 0))
        target[key] = (amount + part, count + row.rows)

    # Renewals: contracts ending in the period, per channel of origin, per cohort and overall.
    if from_stages is not None:  # the funnel's maturity anchor decides who is up for renewal
        as_of = totals["as_of"].date() if totals.get("as_of") else None
    up_origins = set(from_contracts.by_channel) if from_contracts is not None else set()

    def renewal_of(channel: str | None) -> Any:
        if from_stages is not None:
            return from_stages.get(channel)
        return from_contracts.of(channel) if from_contracts is not None else None

    def counts(channel: str, row: Mapping[str, Any], money_spent: tuple[Decimal, int]) -> Any:
        return ChannelCounts(
            channel=channel,
            spend=money_spent[0],
            spend_rows=money_spent[1],
            leads=int(row.get("entered") or 0),
            qualified=int(row.get(f"s{k_qualified}_count") or 0),
            customers=int(row.get(f"s{k_revenue}_count") or 0),
            first_period_revenue=decimal(row.get(f"s{k_revenue}_value")),
            renewal_revenue=decimal(row.get(f"s{k_renewal}_value")) if k_renewal else Decimal(0),
        )

    channels = [
        channel_roi(
            counts(name, row, spend.get(name, (Decimal(0), 0))),
            renewal=renewal_of(name),
            gross_margin=roi.gross_margin,
            contract_months=roi.contract_months,
        )
        for name, row in by_channel.items()
        if int(row.get("entered") or 0) > 0 or name in spend or name in up_origins
    ]
    blended = channel_roi(
        counts(BLENDED, totals, (total_spend, total_rows)),
        renewal=renewal_of(None),
        gross_margin=roi.gross_margin,
        contract_months=roi.contract_months,
    )
    by_cohort = tuple(
        CohortRenewals(cohort=year, renewals=numbers)
        for year, numbers in (from_contracts.by_cohort if from_contracts else {}).items()
    )
    return RoiReport(
        funnel=funnel_info(funnel),
        period=Period(
            since=_iso(query.since),
            until=_iso(query.until),
            as_of=_iso(totals.get("as_of")),
            first_entry=_iso(totals.get("first_entry")),
            last_entry=_iso(totals.get("last_entry")),
            immature=int(totals.get("immature_ids") or 0) > 0,
        ),
        channel_attribute=roi.channel,
        gross_margin=roi.gross_margin,
        contract_months=roi.contract_months,
        channels=tuple(by_roi(channels)),
        blended=blended,
        unmatched_spend=tuple(
            UnmatchedSpend(spend_channel=raw, mapped_to=mapped, amount=float(a), rows=n)
            for (raw, mapped), (a, n) in sorted(unmatched.items(), key=lambda i: -i[1][0])
        ),
        renewals_by_cohort=by_cohort,
        renewals_as_of=as_of.isoformat() if as_of else None,
        version=__version__,
        unparseable_amounts=unparseable,
        renewals_from=(
            "subscriptions" if roi.subscriptions else "stages" if from_stages is not None else None
        ),
        rows_rejected={s: n for s, n in rows_rejected.items() if s in funnel.spec.sources},
    )


def validate_roi(funnel: Funnel, data_dir: Path | None = None) -> list[str]:
    """`funnel validate` for `roi:`: columns exist, every amount, date and month can be read."""
    roi = funnel.spec.roi
    if roi is None:
        return []
    with open_engine(funnel, data_dir, roi_sources(funnel, roi, data_dir)) as engine:
        resolver = Resolver(funnel, engine.schema())
        resolver.attribute_source(roi.channel, "roi.channel")
        spend = read_spend(engine, funnel, roi)
        lines = [f"  roi spend: {sum(r.rows for r in spend)} rows"]
        if roi.subscriptions is not None:
            contracts = contracts_query(engine, funnel, roi)
            count = over_contracts(engine, contracts, exp.Count(this=exp.Star()))
            lines.append(f"  roi subscriptions: {count} contracts")
    return lines


def _overlaps(row: SpendRow, query: RoiQuery) -> bool:
    return (query.since is None or row.end > query.since) and (
        query.until is None or row.start < query.until
    )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)
