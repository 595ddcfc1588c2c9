"""The `roi:` input files as engine views, read and checked: spend rows and contracts typed
(the queries: compile/roi.py; rules: docs/money.md).

Bad cells stop the run with file, row and column: a spend total with a hole in it would make
every cost number wrong.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlglot import exp

from funnelcli.commands.query import amount_wording, unreadable_error
from funnelcli.compile import roi as queries
from funnelcli.compile.resolve import Resolver
from funnelcli.compile.roi import SPEND, SUBSCRIPTIONS
from funnelcli.engine import AMOUNT, Engine, SourceFiles, resolve_source
from funnelcli.metrics.money import SpendRow, decimal
from funnelcli.spec import (
    Funnel,
    RoiSpec,
    SourceSpec,
    SpendSpec,
    SubscriptionsSpec,
    WideSource,
    did_you_mean,
)
from funnelcli.spec.checks import attribution_conflict
from funnelcli.spec.hints import closest, find
from funnelcli.sql import amounts
from funnelcli.sql import ast as q


def roi_sources(
    funnel: Funnel, roi: RoiSpec, data_dir: Path | None = None
) -> dict[str, tuple[SourceSpec, SourceFiles]]:
    """The spend (and subscriptions) files of `roi:` as extra engine views. `funnel validate`
    and `funnel roi` both read them here, so both refuse what roi cannot compute."""
    if roi.subscriptions is not None and funnel.spec.attribution != "entry":
        raise attribution_conflict(
            funnel,
            "roi.subscriptions credits renewals to each account's channel of origin (as of "
            "entry), which would not match the leads' channel under this attribution; use "
            "attribution: entry with roi.subscriptions",
        )
    base = data_dir or funnel.base_dir
    inputs: list[tuple[str, SpendSpec | SubscriptionsSpec, str, str]] = [
        (SPEND, roi.spend, roi.spend.channel, "roi.spend.path")
    ]
    if roi.subscriptions is not None:
        subs = roi.subscriptions
        inputs.append((SUBSCRIPTIONS, subs, subs.account, "roi.subscriptions.path"))
    return {
        view: (
            WideSource(path=spec.path, id=key, encoding=spec.encoding, delimiter=spec.delimiter),
            resolve_source(funnel, view, spec.path, yaml_key, base, data_dir is not None),
        )
        for view, spec, key, yaml_key in inputs
    }


def read_spend(
    engine: Engine, funnel: Funnel, roi: RoiSpec, as_of: datetime | None = None
) -> list[SpendRow]:
    """Spend per channel and day or month (none starting after `as_of`), once every amount and
    date is checked readable."""
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
    start = queries.month(period) if monthly else queries.day(period)
    _require_amount(engine, SPEND, amount)
    bad_period = queries.unreadable_time(period, start.copy())
    _require(engine, SPEND, period, bad_period, "a month" if monthly else "a date")
    value = amounts.amount(q.col(amount), amount_type, funnel.spec.currency)
    undated = exp.and_(q.not_null(value.copy()), q.is_null(q.col(period)))
    _require(engine, SPEND, period, undated, "a date (the row has an amount but no date)")
    out = []
    for row in engine.rows(queries.spend_query(channel, start, value, as_of)):
        begin = datetime.combine(row["start"], datetime.min.time())
        end = _add_month(begin) if monthly else begin + timedelta(days=1)
        out.append(SpendRow(row["channel"], begin, end, decimal(row["amount"]), int(row["n"])))
    return out


def _add_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=1)


def contracts_query(
    engine: Engine, funnel: Funnel, roi: RoiSpec, as_of: datetime | None = None
) -> exp.Select:
    """The contracts of the subscriptions file (compile.roi.contracts_query; none starting
    after `as_of`), once every amount and date in it is checked readable."""
    subs = roi.subscriptions
    assert subs is not None
    key = "roi.subscriptions"
    account, _ = _column(engine, funnel, SUBSCRIPTIONS, subs.account, f"{key}.account")
    start, _ = _column(engine, funnel, SUBSCRIPTIONS, subs.start, f"{key}.start")
    end, _ = _column(engine, funnel, SUBSCRIPTIONS, subs.end, f"{key}.end")
    amount, amount_type = _column(engine, funnel, SUBSCRIPTIONS, subs.amount, f"{key}.amount")
    _require_amount(engine, SUBSCRIPTIONS, amount)
    for raw in (start, end):
        bad = queries.unreadable_time(raw, queries.day(raw))
        _require(engine, SUBSCRIPTIONS, raw, bad, "a date")
    return queries.contracts_query(
        account, start, end, amount, amount_type, funnel.spec.currency, as_of
    )


def over_contracts(engine: Engine, contracts: exp.Select, aggregate: exp.Expr) -> Any:
    """One aggregate over contracts_query's rows (their latest start, their count)."""
    return engine.rows(queries.over(contracts, aggregate))[0]["value"]


def origin_query(engine: Engine, funnel: Funnel, roi: RoiSpec, resolver: Resolver) -> exp.Select:
    """Account → channel of origin, for the accounts of the subscriptions file only."""
    subs = roi.subscriptions
    assert subs is not None
    account, _ = _column(engine, funnel, SUBSCRIPTIONS, subs.account, "roi.subscriptions.account")
    return queries.origin_query(funnel, resolver, roi.channel, account)


def _column(engine: Engine, funnel: Funnel, view: str, raw: str, key: str) -> tuple[str, str]:
    """(raw header, DuckDB type) of a roi: column, or a SpecError naming the key."""
    types = dict(engine.columns(view))
    found = find(raw, types)  # the one tolerant rule (case, width, spaces)
    if found is None:
        label = engine.files[view].label.rsplit("/", 1)[-1]
        hint = did_you_mean(raw, list(types), guess=closest(raw, list(types)))
        raise funnel.error(key, f"column '{raw}' not found in {label}{hint}")
    return found, types[found]


def _require(engine: Engine, view: str, raw: str, bad: exp.Expr, what: str) -> None:
    error = unreadable_error(engine, view, raw, bad, what)
    if error is not None:
        raise error


def _require_amount(engine: Engine, view: str, raw: str) -> None:
    bad = engine.unreadable(view, raw, AMOUNT)
    _require(engine, view, raw, bad, amount_wording(engine.funnel.spec.currency))
