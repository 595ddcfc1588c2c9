"""`funnel roi` as a library call: the funnel by channel, the spend file, the contracts → RoiReport.

Definitions are in docs/money.md; the formulas themselves live in metrics/money.py (pure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlglot import exp

from funnelcli import __version__
from funnelcli.commands.options import RunOptions
from funnelcli.commands.per_id import refuse_each
from funnelcli.commands.query import count_unparseable, require_entries_by, run_report_query
from funnelcli.commands.report import funnel_info, result_period
from funnelcli.commands.roi_inputs import (
    contracts_query,
    origin_query,
    over_contracts,
    read_spend,
    roi_sources,
)
from funnelcli.commands.set_aside import enforce
from funnelcli.compile import ReportQuery
from funnelcli.compile.resolve import Resolver
from funnelcli.compile.roi import SPEND, contract_renewal_query, stage_renewal_query
from funnelcli.compile.rows import GroupRow
from funnelcli.engine import Engine, open_engine
from funnelcli.errors import DataError, SpecError
from funnelcli.metrics.money import (
    ChannelCounts,
    ContractRenewals,
    allocate_spend,
    by_roi,
    channel_roi,
    contract_renewals,
    stage_renewals,
)
from funnelcli.outputs.roi import BLENDED, CohortRenewals, Renewals, RoiReport, UnmatchedSpend
from funnelcli.spec import Funnel
from funnelcli.sql import ast as q


@dataclass(frozen=True)
class RoiRequest:
    """What `funnel roi` is asked: the entry cohort [since, until) and the anchor (naive UTC)."""

    since: datetime | None = None
    until: datetime | None = None
    as_of: datetime | None = None


def build_roi(
    funnel: Funnel, request: RoiRequest | None = None, options: RunOptions | None = None
) -> RoiReport:
    """Run the funnel per channel, read spend (and contracts) and compute every ROI number.
    Options as for report (the spend and contracts files are read directly, not cached)."""
    request = request or RoiRequest()
    options = options or RunOptions()
    refuse_each(funnel, "roi")
    roi = funnel.spec.roi
    if roi is None:
        raise SpecError(
            "no roi: block: declare roi: {spend: …, revenue: STAGE} (see docs/money.md)",
            file=funnel.file,
        )
    extra = roi_sources(funnel, roi, options.data_dir)
    query = ReportQuery(
        since=request.since,
        until=request.until,
        as_of=request.as_of,
        breakdowns=((roi.channel,),),
        known_values=(roi.channel,),
    )
    folder = options.cache_folder(funnel)
    with open_engine(
        funnel,
        options.data_dir,
        extra,
        parquet_cache=folder,
        progress=options.progress,
        spark_master=options.spark_master,
    ) as engine:
        resolver = Resolver(funnel, engine.schema())
        resolver.attribute_source(roi.channel, "roi.channel")
        compiled, rows = run_report_query(engine, funnel, query)
        result = compiled.columns.parse(rows)
        if result.total.entered == 0:
            require_entries_by(engine, funnel, request.as_of)
        unparseable = count_unparseable(engine, compiled)
        rows_rejected, _by_reason = engine.reject_counts()
        enforce(engine, funnel, options)
        spend_rows = read_spend(engine, funnel, roi, request.as_of)
        from_contracts: ContractRenewals | None = None
        from_stages: dict[str | None, Renewals] | None = None
        as_of = request.as_of.date() if request.as_of else None
        if roi.subscriptions is not None:
            contracts = contracts_query(engine, funnel, roi, request.as_of)
            if as_of is None:  # the latest contract start: what the file knows about
                as_of = over_contracts(engine, contracts, exp.Max(this=q.col("start")))
            grace = timedelta(seconds=roi.renewal_grace.seconds, days=30 * roi.renewal_grace.months)
            renewals_sql = contract_renewal_query(
                contracts,
                origin_query(engine, funnel, roi, resolver),
                request.since,
                request.until,
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
            from_stages = stage_renewals(engine.rows(renewal_query))
    total = result.total
    by_channel: dict[str, GroupRow | None] = {
        row.key[roi.channel]: row for row in result.grouped((roi.channel,))
    }
    # A channel whose leads all entered outside the period: no report row, zero leads here.
    for known in result.quality.known_values[roi.channel]:
        by_channel.setdefault(known, None)
    stages = [s.name for s in funnel.spec.stages]
    k_qualified = stages.index(roi.qualified) + 1 if roi.qualified else min(2, len(stages))
    k_revenue = stages.index(roi.revenue) + 1
    k_renewal = stages.index(roi.renewal) + 1 if roi.renewal else None
    spend = allocate_spend(spend_rows, by_channel, request.since, request.until, roi.channel_map)
    _refuse_negative_spend(engine, spend.by_channel)

    # Renewals: contracts ending in the period, per channel of origin, per cohort and overall.
    if from_stages is not None:  # the funnel's maturity anchor decides who is up for renewal
        anchor = result.quality.as_of
        as_of = anchor.date() if anchor else None
    up_origins = set(from_contracts.by_channel) if from_contracts is not None else set()

    def renewal_of(channel: str | None) -> Renewals | None:
        if from_stages is not None:
            return from_stages.get(channel)
        return from_contracts.of(channel) if from_contracts is not None else None

    def counts(channel: str, row: GroupRow | None, spent: tuple[Decimal, int]) -> ChannelCounts:
        def value(k: int | None) -> Decimal:
            return (row.stages[k - 1].value_sum or Decimal(0)) if row and k else Decimal(0)

        return ChannelCounts(
            channel=channel,
            spend=spent[0],
            spend_rows=spent[1],
            leads=row.entered if row else 0,
            qualified=row.stages[k_qualified - 1].count if row else 0,
            customers=row.stages[k_revenue - 1].count if row else 0,
            first_period_revenue=value(k_revenue),
            renewal_revenue=value(k_renewal),
        )

    channels = [
        channel_roi(
            counts(name, row, spend.by_channel.get(name, (Decimal(0), 0))),
            renewal=renewal_of(name),
            gross_margin=roi.gross_margin,
            contract_months=roi.contract_months,
        )
        for name, row in by_channel.items()
        if (row is not None and row.entered > 0) or name in spend.by_channel or name in up_origins
    ]
    blended = channel_roi(
        counts(BLENDED, total, (spend.total, spend.rows)),
        renewal=renewal_of(None),
        gross_margin=roi.gross_margin,
        contract_months=roi.contract_months,
    )
    by_cohort = tuple(
        CohortRenewals(cohort=year, renewals=numbers)
        for year, numbers in (from_contracts.by_cohort if from_contracts else {}).items()
    )
    unmatched = sorted(spend.unmatched.items(), key=lambda item: -item[1][0])
    return RoiReport(
        funnel=funnel_info(funnel),
        period=result_period(request.since, request.until, result),
        channel_attribute=roi.channel,
        gross_margin=roi.gross_margin,
        contract_months=roi.contract_months,
        channels=tuple(by_roi(channels)),
        blended=blended,
        unmatched_spend=tuple(
            UnmatchedSpend(spend_channel=raw, mapped_to=mapped, amount=float(a), rows=n)
            for (raw, mapped), (a, n) in unmatched
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


def _refuse_negative_spend(engine: Engine, by_channel: Mapping[str, tuple[Decimal, int]]) -> None:
    """A channel whose spend in the period nets below zero (refunds beyond spend) has no cost
    per lead, CAC or ROI: a negative one (CAC −175, ROI −200%) would read as a number."""
    for channel, (amount, _) in sorted(by_channel.items()):
        if amount < 0:
            raise DataError(
                f"the spend of channel '{channel}' nets {amount.normalize():f} in the period "
                "(refunds or credits exceed its spend): cost per lead, CAC and ROI would be "
                "negative; check the export or choose a period with its spend",
                file=engine.files[SPEND].label,
            )
