"""The `roi:` input files: spend rows and contracts read, checked and typed (docs/money.md).

Bad cells stop the run with file, row and column: a spend total with a hole in it would make
every cost number wrong.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlglot import exp

from funnelcli.compile.resolve import Resolver, stage_plans
from funnelcli.engine import AMOUNT, Engine, SourceFiles, resolve_source
from funnelcli.errors import DataError
from funnelcli.metrics.money import SpendRow, decimal
from funnelcli.outputs.report import NONE_GROUP
from funnelcli.spec import Funnel, RoiSpec, SourceSpec, WideSource
from funnelcli.sql import amounts as money
from funnelcli.sql import ast as q

SPEND = "roi_spend"
SUBSCRIPTIONS = "roi_subscriptions"


def roi_sources(
    funnel: Funnel, roi: RoiSpec, data_dir: Path | None = None
) -> dict[str, tuple[SourceSpec, SourceFiles]]:
    """The spend (and subscriptions) files of `roi:` as extra engine views."""
    base = data_dir or funnel.base_dir
    extra: dict[str, tuple[SourceSpec, SourceFiles]] = {
        SPEND: (
            WideSource(
                path=roi.spend.path,
                id=roi.spend.channel,
                encoding=roi.spend.encoding,
                delimiter=roi.spend.delimiter,
            ),
            resolve_source(
                funnel, SPEND, roi.spend.path, "roi.spend.path", base, data_dir is not None
            ),
        )
    }
    if roi.subscriptions is not None:
        subs = roi.subscriptions
        extra[SUBSCRIPTIONS] = (
            WideSource(
                path=subs.path, id=subs.account, encoding=subs.encoding, delimiter=subs.delimiter
            ),
            resolve_source(
                funnel,
                SUBSCRIPTIONS,
                subs.path,
                "roi.subscriptions.path",
                base,
                data_dir is not None,
            ),
        )
    return extra


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


def _require(engine: Engine, view: str, raw: str, bad: exp.Expr, what: str) -> None:
    found = engine.locate(view, raw, bad)
    if found is not None:
        row, text = found
        raise DataError(
            f"cannot read {text!r} as {what}", file=engine.files[view].label, row=row, column=raw
        )


def _require_amount(engine: Engine, view: str, raw: str) -> None:
    bad = engine.unreadable(view, raw, AMOUNT)
    _require(engine, view, raw, bad, "an amount (rules: docs/money.md)")


def _unreadable_time(raw: str, parsed: exp.Expr) -> exp.Expr:
    return exp.and_(q.not_null(q.col(raw)), q.is_null(parsed))


def read_spend(engine: Engine, funnel: Funnel, roi: RoiSpec) -> list[SpendRow]:
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
    for row in engine.rows(query):
        begin = datetime.combine(row["start"], datetime.min.time())
        end = _add_month(begin) if monthly else begin + timedelta(days=1)
        out.append(SpendRow(row["channel"], begin, end, decimal(row["amount"]), int(row["n"])))
    return out


def _add_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=1)


def contracts_query(engine: Engine, funnel: Funnel, roi: RoiSpec) -> exp.Select:
    """The contracts (account, start, end as DATEs, amount as DECIMAL or NULL) of the
    subscriptions file, once every amount and date in it is checked readable; rows without an
    account, start or end are left out."""
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
    return (
        exp.select(
            q.alias(_as_text(account), "account"),
            q.alias(_day(start), "start"),
            q.alias(_day(end), "end"),
            q.alias(money.amount(q.col(amount), amount_type), "amount"),
        )
        .from_(q.table(f"source_{SUBSCRIPTIONS}"))
        .where(q.and_(q.not_null(q.col(account)), q.not_null(q.col(start)), q.not_null(q.col(end))))
    )


def over_contracts(engine: Engine, contracts: exp.Select, aggregate: exp.Expr) -> Any:
    """One aggregate over contracts_query's rows (their latest start, their count)."""
    query = exp.select(q.alias(aggregate, "value")).from_(contracts.subquery("c"))
    return engine.rows(query)[0]["value"]


def origin_query(engine: Engine, funnel: Funnel, roi: RoiSpec, resolver: Resolver) -> exp.Select:
    """Account → channel of origin: the channel of the account's earliest entering row, for
    the accounts of the subscriptions file only."""
    source_name, raw = resolver.attribute_source(roi.channel, "roi.channel")
    source = funnel.spec.sources[source_name]
    if source.account is None:
        raise funnel.error(
            "roi.subscriptions",
            f"the channel column is on source {source_name}, which declares no account:",
        )
    account = resolver.column(source_name, source.account, f"sources.{source_name}.account")
    subs = roi.subscriptions
    assert subs is not None
    sub_account, _ = _column(
        engine, funnel, SUBSCRIPTIONS, subs.account, "roi.subscriptions.account"
    )
    customers = exp.select(_as_text(sub_account)).from_(q.table(f"source_{SUBSCRIPTIONS}"))
    first = stage_plans(funnel, resolver)[0]
    order = [first.time] if first.source == source_name and first.time is not None else []
    return (
        exp.select(
            q.alias(_as_text(account), "account"),
            q.alias(q.first_by(_as_text(raw), *order), "channel"),
        )
        .from_(q.table(f"source_{source_name}"))
        .where(q.and_(q.not_null(q.col(account)), _as_text(account).isin(query=customers)))
        .group_by(_as_text(account))
    )
