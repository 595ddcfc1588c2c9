"""The `risk:` files as engine views, read and checked (docs/risk.md): usage and touches read
like funnel sources (encodings, tolerant headers, detected date formats, rejected rows), the
contracts as `roi.subscriptions` are (commands/roi_inputs.py).

A usage value that is not a number, or a negative one, stops the run with file, row and column:
a hole in the usage would read as a drop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlglot import exp

from funnelcli.commands.roi_inputs import _column, _require, _require_amount
from funnelcli.compile import roi as roi_queries
from funnelcli.compile.risk_inputs import TOUCHES, USAGE, UsageColumns, value_checks
from funnelcli.compile.roi import SUBSCRIPTIONS
from funnelcli.engine import Engine, SourceFiles, resolve_source
from funnelcli.spec import Funnel, RiskSpec, SourceSpec, SubscriptionsSpec, WideSource
from funnelcli.spec.risk import TouchesSpec, UsageSpec
from funnelcli.sql import ast as q
from funnelcli.sql.ast import source_view


def contracts_spec(funnel: Funnel, risk: RiskSpec) -> tuple[SubscriptionsSpec, str]:
    """The contracts file (risk.contracts, else roi.subscriptions) and its YAML key."""
    if risk.contracts is not None:
        return risk.contracts, "risk.contracts"
    roi = funnel.spec.roi
    assert roi is not None and roi.subscriptions is not None  # spec/checks.py
    return roi.subscriptions, "roi.subscriptions"


def risk_sources(
    funnel: Funnel, risk: RiskSpec, data_dir: Path | None = None
) -> dict[str, tuple[SourceSpec, SourceFiles]]:
    """The usage, touches and contracts files of `risk:` as extra engine views."""
    base = data_dir or funnel.base_dir
    found = data_dir is not None
    usage = risk.usage
    named = [usage.account, usage.time, *[usage.column(m) for m in usage.metrics]]
    if usage.shape == "long":
        named = [usage.account, usage.time, usage.metric or "", usage.value or ""]
    out: dict[str, tuple[SourceSpec, SourceFiles]] = {
        USAGE: (
            _as_source(usage, usage.account, usage.time, named),
            resolve_source(funnel, USAGE, usage.path, "risk.usage.path", base, found),
        )
    }
    if risk.touches is not None:
        touches = risk.touches
        out[TOUCHES] = (
            _as_source(touches, touches.account, touches.time, [touches.account, touches.time]),
            resolve_source(funnel, TOUCHES, touches.path, "risk.touches.path", base, found),
        )
    contracts, key = contracts_spec(funnel, risk)
    out[SUBSCRIPTIONS] = (
        WideSource(
            path=contracts.path,
            id=contracts.account,
            encoding=contracts.encoding,
            delimiter=contracts.delimiter,
        ),
        resolve_source(funnel, SUBSCRIPTIONS, contracts.path, f"{key}.path", base, found),
    )
    return out


def _as_source(
    spec: UsageSpec | TouchesSpec, account: str, time: str, named: list[str]
) -> WideSource:
    """A risk file as an extra view: its time column parsed like a stage time."""
    return WideSource(
        path=spec.path,
        id=account,
        at=time,
        columns={name: name for name in named if name},
        encoding=spec.encoding,
        delimiter=spec.delimiter,
        sheet=spec.sheet,
        tz=spec.tz,
        day_first=spec.day_first,
        formats=spec.formats,
    )


@dataclass(frozen=True)
class UsageFacts:
    """What the check pass over the usage file found: its first and last day."""

    first_day: date | None
    last_day: date | None


def usage_columns(engine: Engine, funnel: Funnel, risk: RiskSpec) -> UsageColumns:
    """The usage view's columns for the query; a missing one is a SpecError at its key."""
    usage = risk.usage
    account, _ = _column(engine, funnel, USAGE, usage.account, "risk.usage.account")
    time, _ = _column(engine, funnel, USAGE, usage.time, "risk.usage.time")
    if usage.shape == "long":
        assert usage.metric is not None and usage.value is not None
        metric, _ = _column(engine, funnel, USAGE, usage.metric, "risk.usage.metric")
        value, _ = _column(engine, funnel, USAGE, usage.value, "risk.usage.value")
        metrics = tuple((name, usage.column(name)) for name in usage.metrics)
        return UsageColumns(account, time, metrics, metric=metric, value=value)
    metrics = tuple(
        (name, _column(engine, funnel, USAGE, usage.column(name), f"risk.usage.metrics.{name}")[0])
        for name in usage.metrics
    )
    return UsageColumns(account, time, metrics)


def usage_days(engine: Engine, columns: UsageColumns) -> UsageFacts:
    """The usage file's first and last day (a pass over its date column)."""
    day = exp.cast(q.col(columns.time), "DATE")
    query = exp.select(
        q.alias(exp.Min(this=day.copy()), "first_day"), q.alias(exp.Max(this=day), "last_day")
    ).from_(q.table(source_view(USAGE)))
    (row,) = engine.rows(query, source=USAGE)
    return UsageFacts(row["first_day"], row["last_day"])


def require_values(engine: Engine, columns: UsageColumns) -> None:
    """A DataError at the first value that is not a number or is negative (value_checks)."""
    for raw, what, bad in value_checks(columns):
        _require(engine, USAGE, raw, bad, what)


def check_usage(engine: Engine, columns: UsageColumns) -> UsageFacts:
    """One pass over the usage file: every value a number and none negative (else a DataError
    at the first bad one), its first and last day (what `funnel validate` checks)."""
    checks = value_checks(columns)
    day = exp.cast(q.col(columns.time), "DATE")
    query = exp.select(
        q.alias(exp.Min(this=day.copy()), "first_day"),
        q.alias(exp.Max(this=day), "last_day"),
        *[q.alias(q.count_if(bad.copy()), f"bad{i}") for i, (_, _, bad) in enumerate(checks)],
    ).from_(q.table(source_view(USAGE)))
    (row,) = engine.rows(query, source=USAGE)
    for index, (raw, what, bad) in enumerate(checks):
        if row[f"bad{index}"]:
            _require(engine, USAGE, raw, bad, what)
    return UsageFacts(row["first_day"], row["last_day"])


def touches_columns(engine: Engine, funnel: Funnel, risk: RiskSpec) -> tuple[str, str] | None:
    """(account, time) columns of the touches view, when there is a touches file."""
    if risk.touches is None:
        return None
    touches = risk.touches
    account, _ = _column(engine, funnel, TOUCHES, touches.account, "risk.touches.account")
    time, _ = _column(engine, funnel, TOUCHES, touches.time, "risk.touches.time")
    return account, time


def contracts_query(engine: Engine, funnel: Funnel, risk: RiskSpec) -> exp.Select:
    """The contracts (compile.roi.contracts_query), once every amount and date is readable."""
    spec, key = contracts_spec(funnel, risk)
    account, _ = _column(engine, funnel, SUBSCRIPTIONS, spec.account, f"{key}.account")
    start, _ = _column(engine, funnel, SUBSCRIPTIONS, spec.start, f"{key}.start")
    end, _ = _column(engine, funnel, SUBSCRIPTIONS, spec.end, f"{key}.end")
    amount, amount_type = _column(engine, funnel, SUBSCRIPTIONS, spec.amount, f"{key}.amount")
    _require_amount(engine, SUBSCRIPTIONS, amount)
    for raw in (start, end):
        bad = roi_queries.unreadable_time(raw, roi_queries.day(raw))
        _require(engine, SUBSCRIPTIONS, raw, bad, "a date")
    return roi_queries.contracts_query(account, start, end, amount, amount_type)
