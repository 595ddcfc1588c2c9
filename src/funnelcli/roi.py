"""`funnel roi` as a library call: the funnel by channel, the spend file, the contracts → RoiReport.

Definitions are in docs/money.md; the formulas themselves live in roi_metrics.py (pure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlglot import exp

from funnelcli import __version__, money
from funnelcli import sqlast as q
from funnelcli.compile import ReportQuery
from funnelcli.engine import AMOUNT, Engine, SourceFiles, open_engine, resolve_source
from funnelcli.errors import DataError, SpecError
from funnelcli.plan import Resolver, stage_plans
from funnelcli.report import compile_for, count_unparseable, funnel_info
from funnelcli.result import NONE_GROUP, Period
from funnelcli.roi_metrics import (
    ChannelCounts,
    Contract,
    by_roi,
    channel_roi,
    prorated,
    renewals,
    up_for_renewal,
)
from funnelcli.roi_result import BLENDED, CohortRenewals, Renewals, RoiReport, UnmatchedSpend
from funnelcli.spec import Funnel, RoiSpec, SourceSpec
from funnelcli.stage_renewals import stage_renewal_query, stage_renewals

SPEND = "roi_spend"
SUBSCRIPTIONS = "roi_subscriptions"


@dataclass(frozen=True)
class RoiQuery:
    since: datetime | None = None
    until: datetime | None = None
    as_of: datetime | None = None


@dataclass(frozen=True)
class SpendRow:
    channel: str  # as written in the spend file
    start: datetime  # the day or month the row covers: [start, end)
    end: datetime
    amount: Decimal
    rows: int


def build_roi(
    funnel: Funnel, query: RoiQuery | None = None, data_dir: Path | None = None
) -> RoiReport:
    """Run the funnel per channel, read spend (and contracts) and compute every ROI number."""
    query = query or RoiQuery()
    roi = funnel.spec.roi
    if roi is None:
        raise SpecError(
            "no roi: block: declare roi: {spend: …, revenue: STAGE} (see docs/money.md)",
            file=funnel.file,
        )
    extra = roi_sources(funnel, roi, data_dir)
    report_query = ReportQuery(
        since=query.since, until=query.until, as_of=query.as_of, breakdowns=((roi.channel,),)
    )
    with open_engine(funnel, data_dir, extra) as engine:
        resolver = Resolver(funnel, engine.headers())
        resolver.attribute_source(roi.channel, "roi.channel")
        compiled = compile_for(funnel, engine, report_query)
        rows = engine.frame(compiled.sql()).to_dicts()
        unparseable = count_unparseable(engine, compiled)
        spend_rows = _spend(engine, funnel, roi)
        contracts: list[Contract] = []
        origin: dict[str, str] = {}
        from_stages: dict[str | None, Renewals] | None = None
        if roi.subscriptions is not None:
            contracts = _contracts(engine, funnel, roi)
            origin = _account_channels(engine, funnel, roi, resolver)
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
            from_stages = stage_renewals(
                engine.frame(renewal_query.sql(dialect="duckdb")).to_dicts()
            )
    group = compiled.group_columns[roi.channel]
    totals = next((r for r in rows if r.get(group) is None), {})
    by_channel = {str(r[group]): r for r in rows if r.get(group) is not None}
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
    as_of = query.as_of.date() if query.as_of else max((c.start for c in contracts), default=None)
    if from_stages is not None:  # the funnel's maturity anchor decides who is up for renewal
        as_of = totals["as_of"].date() if totals.get("as_of") else None
    grace = timedelta(seconds=roi.renewal_grace.seconds, days=30 * roi.renewal_grace.months)
    up = up_for_renewal(contracts, query.since, query.until, as_of, grace)

    up_origins = {origin.get(c.account, NONE_GROUP) for c in up}

    def renewal_of(channel: str | None) -> Any:
        if from_stages is not None:
            return from_stages.get(channel)
        if roi.subscriptions is None:
            return None
        chosen = [c for c in up if channel is None or origin.get(c.account, NONE_GROUP) == channel]
        return renewals(contracts, chosen, grace)

    def counts(channel: str, row: Mapping[str, Any], money_spent: tuple[Decimal, int]) -> Any:
        return ChannelCounts(
            channel=channel,
            spend=money_spent[0],
            spend_rows=money_spent[1],
            leads=int(row.get("entered") or 0),
            qualified=int(row.get(f"s{k_qualified}_count") or 0),
            customers=int(row.get(f"s{k_revenue}_count") or 0),
            first_period_revenue=_decimal(row.get(f"s{k_revenue}_value")),
            renewal_revenue=_decimal(row.get(f"s{k_renewal}_value")) if k_renewal else Decimal(0),
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
    first_start: dict[str, date] = {}
    for contract in contracts:
        first = first_start.get(contract.account)
        first_start[contract.account] = min(first, contract.start) if first else contract.start
    cohorts = sorted({str(first_start[c.account].year) for c in up})
    by_cohort = tuple(
        CohortRenewals(
            cohort=year,
            renewals=renewals(
                contracts, [c for c in up if str(first_start[c.account].year) == year], grace
            ),
        )
        for year in cohorts
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
    )


def roi_sources(
    funnel: Funnel, roi: RoiSpec, data_dir: Path | None = None
) -> dict[str, tuple[SourceSpec, SourceFiles]]:
    """The spend (and subscriptions) files of `roi:` as extra engine views."""
    base = data_dir or funnel.base_dir
    extra: dict[str, tuple[SourceSpec, SourceFiles]] = {
        SPEND: (
            SourceSpec(
                path=roi.spend.path,
                id=roi.spend.channel,
                encoding=roi.spend.encoding,
                delimiter=roi.spend.delimiter,
            ),
            resolve_source(funnel, SPEND, roi.spend.path, "roi.spend.path", base),
        )
    }
    if roi.subscriptions is not None:
        subs = roi.subscriptions
        extra[SUBSCRIPTIONS] = (
            SourceSpec(
                path=subs.path, id=subs.account, encoding=subs.encoding, delimiter=subs.delimiter
            ),
            resolve_source(funnel, SUBSCRIPTIONS, subs.path, "roi.subscriptions.path", base),
        )
    return extra


def validate_roi(funnel: Funnel, data_dir: Path | None = None) -> list[str]:
    """`funnel validate` for `roi:`: columns exist, every amount, date and month can be read."""
    roi = funnel.spec.roi
    if roi is None:
        return []
    with open_engine(funnel, data_dir, roi_sources(funnel, roi, data_dir)) as engine:
        resolver = Resolver(funnel, engine.headers())
        resolver.attribute_source(roi.channel, "roi.channel")
        spend = _spend(engine, funnel, roi)
        lines = [f"  roi spend: {sum(r.rows for r in spend)} rows"]
        if roi.subscriptions is not None:
            contracts = _contracts(engine, funnel, roi)
            lines.append(f"  roi subscriptions: {len(contracts)} contracts")
    return lines


def _overlaps(row: SpendRow, query: RoiQuery) -> bool:
    return (query.since is None or row.end > query.since) and (
        query.until is None or row.start < query.until
    )


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)


# --- reading the spend and contract files ---------------------------------------------------


def _column(engine: Engine, funnel: Funnel, view: str, raw: str, key: str) -> tuple[str, str]:
    """(raw header, DuckDB type) of a roi: column, or a SpecError naming the key."""
    from funnelcli.spec import did_you_mean

    types = dict(engine.columns(view))
    if raw not in types:
        label = engine.files[view].label.rsplit("/", 1)[-1]
        raise funnel.error(
            key, f"column '{raw}' not found in {label}{did_you_mean(raw, list(types))}"
        )
    return raw, types[raw]


def _as_text(raw: str) -> exp.Expr:
    return exp.cast(q.col(raw), "VARCHAR")


def _day(raw: str) -> exp.Expr:
    return exp.cast(exp.TryCast(this=_as_text(raw), to=exp.DataType.build("TIMESTAMP")), "DATE")


def _month(raw: str) -> exp.Expr:
    """`2025-03` (or `2025-3`) or any date in the month → the month's first day."""
    year_month = exp.func(
        "regexp_matches", _as_text(raw), exp.Literal.string("^[0-9]{4}-[0-9]{1,2}$")
    )
    first_day = exp.TryCast(
        this=exp.DPipe(this=_as_text(raw), expression=exp.Literal.string("-01")),
        to=exp.DataType.build("DATE"),
    )
    truncated = exp.cast(exp.func("date_trunc", exp.Literal.string("month"), _day(raw)), "DATE")
    return exp.Case(default=truncated).when(year_month, first_day)


def _first_bad_row(engine: Engine, view: str, raw: str, bad: exp.Expr) -> tuple[int, str] | None:
    numbered = exp.select(
        q.alias(exp.Window(this=exp.RowNumber()), "row_no"),
        q.alias(_as_text(raw), "raw_text"),
        q.alias(bad, "bad"),
    ).from_(q.table(f"source_{view}"))
    query = (
        exp.select(q.col("row_no"), q.col("raw_text"))
        .from_(numbered.subquery("t"))
        .where(q.col("bad"))
        .order_by(q.col("row_no"))
        .limit(1)
    )
    rows = engine.frame(query.sql(dialect="duckdb")).rows()
    return (int(rows[0][0]), str(rows[0][1])) if rows else None


def _require(engine: Engine, view: str, raw: str, bad: exp.Expr, what: str) -> None:
    found = _first_bad_row(engine, view, raw, bad)
    if found is not None:
        row, text = found
        raise DataError(
            f"cannot read {text!r} as {what}", file=engine.files[view].label, row=row, column=raw
        )


def _require_amount(engine: Engine, view: str, raw: str) -> None:
    found = engine.first_unreadable(view, raw, AMOUNT)
    if found is not None:
        row, text = found
        raise DataError(
            f"cannot read {text!r} as an amount (rules: docs/money.md)",
            file=engine.files[view].label,
            row=row,
            column=raw,
        )


def _unreadable_time(raw: str, parsed: exp.Expr) -> exp.Expr:
    return exp.and_(q.not_null(q.col(raw)), q.is_null(parsed))


def _spend(engine: Engine, funnel: Funnel, roi: RoiSpec) -> list[SpendRow]:
    spend = roi.spend
    channel, _ = _column(engine, funnel, SPEND, spend.channel, "roi.spend.channel")
    amount, amount_type = _column(engine, funnel, SPEND, spend.amount, "roi.spend.amount")
    monthly = spend.month is not None
    period_name = spend.month if monthly else spend.date
    assert period_name is not None
    period, _ = _column(
        engine, funnel, SPEND, period_name, "roi.spend.month" if monthly else "roi.spend.date"
    )
    if spend.campaign is not None:  # informational: checked, not used in the numbers
        _column(engine, funnel, SPEND, spend.campaign, "roi.spend.campaign")
    start = _month(period) if monthly else _day(period)
    _require_amount(engine, SPEND, amount)
    _require(
        engine, SPEND, period, _unreadable_time(period, start), "a month" if monthly else "a date"
    )
    value = money.amount(q.col(amount), amount_type)
    _require(
        engine,
        SPEND,
        period,
        exp.and_(q.not_null(value.copy()), q.is_null(q.col(period))),
        "a date (the row has an amount but no date)",
    )
    name = q.coalesce(_as_text(channel), exp.Literal.string(NONE_GROUP))
    query = (
        exp.select(
            q.alias(name, "channel"),
            q.alias(start, "start"),
            q.alias(exp.Sum(this=value), "amount"),
            q.alias(exp.Count(this=exp.Star()), "n"),
        )
        .from_(q.table(f"source_{SPEND}"))
        .where(q.not_null(start.copy()))
        .group_by(name.copy(), start.copy())
        .order_by(exp.Literal.number(1), exp.Literal.number(2))
    )
    out = []
    for row in engine.frame(query.sql(dialect="duckdb")).to_dicts():
        begin = datetime.combine(row["start"], datetime.min.time())
        end = _add_month(begin) if monthly else begin + timedelta(days=1)
        out.append(SpendRow(row["channel"], begin, end, _decimal(row["amount"]), int(row["n"])))
    return out


def _add_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=1)


def _contracts(engine: Engine, funnel: Funnel, roi: RoiSpec) -> list[Contract]:
    subs = roi.subscriptions
    assert subs is not None
    key = "roi.subscriptions"
    account, _ = _column(engine, funnel, SUBSCRIPTIONS, subs.account, f"{key}.account")
    start, _ = _column(engine, funnel, SUBSCRIPTIONS, subs.start, f"{key}.start")
    end, _ = _column(engine, funnel, SUBSCRIPTIONS, subs.end, f"{key}.end")
    amount, amount_type = _column(engine, funnel, SUBSCRIPTIONS, subs.amount, f"{key}.amount")
    _require_amount(engine, SUBSCRIPTIONS, amount)
    for raw in (start, end):
        _require(engine, SUBSCRIPTIONS, raw, _unreadable_time(raw, _day(raw)), "a date")
    query = (
        exp.select(
            q.alias(_as_text(account), "account"),
            q.alias(_day(start), "start"),
            q.alias(_day(end), "end"),
            q.alias(money.amount(q.col(amount), amount_type), "amount"),
        )
        .from_(q.table(f"source_{SUBSCRIPTIONS}"))
        .where(q.and_(q.not_null(q.col(account)), q.not_null(q.col(start)), q.not_null(q.col(end))))
    )
    return [
        Contract(r["account"], r["start"], r["end"], _decimal(r["amount"]))
        for r in engine.frame(query.sql(dialect="duckdb")).to_dicts()
    ]


def _account_channels(
    engine: Engine, funnel: Funnel, roi: RoiSpec, resolver: Resolver
) -> dict[str, str]:
    """Account → channel of origin: the channel of the account's earliest entering row."""
    source_name, raw = resolver.attribute_source(roi.channel, "roi.channel")
    source = funnel.spec.sources[source_name]
    if source.account is None:
        raise funnel.error(
            "roi.subscriptions",
            f"the channel column is on source {source_name}, which declares no account:",
        )
    account = resolver.column(source_name, source.account, f"sources.{source_name}.account")
    first = stage_plans(funnel, resolver)[0]
    order = [first.time] if first.source == source_name and first.time is not None else []
    query = (
        exp.select(
            q.alias(_as_text(account), "account"),
            q.alias(q.first_by(_as_text(raw), *order), "channel"),
        )
        .from_(q.table(f"source_{source_name}"))
        .where(q.not_null(q.col(account)))
        .group_by(_as_text(account))
    )
    return {
        str(r["account"]): str(r["channel"]) if r["channel"] is not None else NONE_GROUP
        for r in engine.frame(query.sql(dialect="duckdb")).to_dicts()
    }
